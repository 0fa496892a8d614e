"""Coefficient tables give the recurrences' gates and derivatives, and hand over to them where they would lose digits."""

import numpy as np
import pytest
import torch

from qvec.photonic.recurrences import RECURRENCES
from qvec.photonic.tables import MAX_ERROR, table_for, zero_phase_entries

KINDS = ("displacement", "squeezing", "beamsplitter")
VALUES = np.array([-1.3, -0.2, 0.0, 0.4, 1.1])


def _gates(table, theta: np.ndarray) -> np.ndarray:
    return table.scatter(table.values_and_slopes(theta)[0])


def _derivatives(table, theta: np.ndarray) -> np.ndarray:
    return table.scatter(table.values_and_slopes(theta)[1])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("cutoff", [1, 2, 5, 8, 12])
def test_table_equals_recurrence_and_its_derivative(kind, cutoff):
    build, derivative = RECURRENCES[kind]
    table = table_for(kind, cutoff)
    values = VALUES if table.exact_for(VALUES) else VALUES / 4
    reference = build(values, cutoff)
    assert np.allclose(_gates(table, values), reference, rtol=0, atol=1e-12)
    assert np.allclose(_derivatives(table, values), derivative(values, reference), rtol=0, atol=1e-11)


@pytest.mark.parametrize("kind", KINDS)
def test_table_derivative_matches_central_differences(kind):
    table, values, step = table_for(kind, 9), np.array([0.2, -0.7]), 1e-6
    numeric = (_gates(table, values + step) - _gates(table, values - step)) / (2 * step)
    assert np.allclose(_derivatives(table, values), numeric, rtol=0, atol=1e-7)


def _ladder(size: int) -> np.ndarray:
    return np.diag(np.sqrt(np.arange(1, size)), 1)


def _expm(matrix: np.ndarray) -> np.ndarray:
    return torch.linalg.matrix_exp(torch.from_numpy(matrix)).numpy()


def test_displacement_and_squeezing_tables_equal_exponentials_of_ladder_operators():
    """Truncated entries of the exact operators: expm on a much larger space, then cut to the cutoff."""
    cutoff, big, r = 6, 80, 0.6
    a = _ladder(big)
    displacement = _expm(r * (a.T - a))[:cutoff, :cutoff]
    squeezing = _expm(r * (a @ a - a.T @ a.T) / 2)[:cutoff, :cutoff]
    assert np.allclose(_gates(table_for("displacement", cutoff), np.array([r]))[0], displacement, atol=1e-10)
    assert np.allclose(_gates(table_for("squeezing", cutoff), np.array([r]))[0], squeezing, atol=1e-10)


def test_beamsplitter_table_equals_exponential_of_ladder_operators():
    cutoff, big, theta = 4, 24, 0.7
    a1 = np.kron(_ladder(big), np.eye(big))
    a2 = np.kron(np.eye(big), _ladder(big))
    full = _expm(theta * (a1 @ a2.T - a1.T @ a2)).reshape(big, big, big, big)
    assert np.allclose(_gates(table_for("beamsplitter", cutoff), np.array([theta]))[0],
                       full[:cutoff, :cutoff, :cutoff, :cutoff], atol=1e-10)


def test_gates_past_the_tables_exact_range_come_from_the_recurrences():
    """At cutoff 24 the beamsplitter's alternating sums lose more than MAX_ERROR past small angles."""
    table = table_for("beamsplitter", 24)
    wide = np.array([1.0])
    assert not table.exact_for(wide) and table.error_bound(wide) > MAX_ERROR
    build, derivative = RECURRENCES["beamsplitter"]
    gate = build(wide, 24)
    values, slopes = zero_phase_entries("beamsplitter", wide, 24)
    assert np.array_equal(table.scatter(values), gate)
    assert np.array_equal(table.scatter(slopes), derivative(wide, gate))


def test_small_cutoffs_use_the_tables_everywhere():
    for kind in KINDS:
        assert table_for(kind, 8).exact_for(np.array([-7.9, 7.9]))



@pytest.mark.parametrize("kind", KINDS)
def test_an_empty_batch_gives_empty_entries(kind):
    values, slopes = zero_phase_entries(kind, np.zeros(0), 8)
    assert values.shape == slopes.shape == (0, table_for(kind, 8).entries.size)
