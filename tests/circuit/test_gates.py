"""Every gate matrix against its textbook definition, and unitarity over random angles."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from qvec.circuit import GATES, gate_definition, gate_matrix
from qvec.errors import InputError

from .reference import IR_GATES

ANGLES = (0.3, -1.7, 2.9)
angle = st.floats(min_value=-4 * math.pi, max_value=4 * math.pi, allow_nan=False)


def test_the_reference_covers_every_gate() -> None:
    assert set(IR_GATES) == set(GATES)


@pytest.mark.parametrize("name", sorted(GATES))
def test_matrix_is_the_textbook_matrix(name: str) -> None:
    angles = ANGLES[: GATES[name].n_params]
    np.testing.assert_allclose(gate_matrix(name, *angles).numpy(), IR_GATES[name](*angles), atol=1e-12)


@pytest.mark.parametrize("name", sorted(GATES))
def test_complex64_matches_complex128(name: str) -> None:
    angles = ANGLES[: GATES[name].n_params]
    single = gate_matrix(name, *angles, dtype=torch.complex64)
    assert single.dtype == torch.complex64
    np.testing.assert_allclose(single.numpy(), IR_GATES[name](*angles), atol=1e-6)


@pytest.mark.parametrize("name", sorted(GATES))
@settings(max_examples=25, deadline=None)
@given(angles=st.lists(angle, min_size=3, max_size=3))
def test_every_gate_is_unitary(name: str, angles: list[float]) -> None:
    matrix = gate_matrix(name, *angles[: GATES[name].n_params])
    eye = torch.eye(GATES[name].dimension, dtype=torch.complex128)
    torch.testing.assert_close(matrix @ matrix.conj().T, eye, atol=1e-12, rtol=0)


@pytest.mark.parametrize("name", sorted(GATES))
def test_builder_is_vectorized_over_leading_axes(name: str) -> None:
    gate = GATES[name]
    angles = torch.linspace(-2.0, 2.0, 4 * 2 * gate.n_params, dtype=torch.float64).reshape(4, 2, gate.n_params)
    batch = gate.build(angles)
    assert batch.shape == (4, 2, gate.dimension, gate.dimension)
    for i, j in [(0, 0), (3, 1)]:
        np.testing.assert_allclose(batch[i, j].numpy(), IR_GATES[name](*angles[i, j].tolist()), atol=1e-12)


def test_diagonal_flag_matches_the_matrix() -> None:
    for name, gate in GATES.items():
        matrix = IR_GATES[name](*ANGLES[: gate.n_params])
        assert gate.diagonal == np.allclose(matrix, np.diag(np.diag(matrix))), name


def test_unknown_gate_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown gate 'cnot'"):
        gate_definition("cnot")


def test_wrong_number_of_angles() -> None:
    with pytest.raises(InputError, match="gate 'rx' takes 1 angle"):
        gate_matrix("rx")
