"""Sampling: reproducible with a seed, distributed as the probabilities say."""

from __future__ import annotations

import pytest
import torch

import qvec
from qvec.errors import InputError
from qvec.sim.sampling import SAMPLE_BYTES_PER_SHOT, sample_indices, uniform_draws
from qvec.sim.simulate import RowOutput


def test_same_seed_same_samples_and_bell_support() -> None:
    bell = qvec.Circuit(2).h(0).cx(0, 1)
    first = bell.sample(1000, seed=5)
    assert torch.equal(first, bell.sample(1000, seed=5))
    assert set(first.unique().tolist()) <= {0, 3}


def test_sample_frequencies_follow_probabilities() -> None:
    theta = torch.tensor([0.4, 2.0])
    circuit = qvec.Circuit(1).ry(0, theta)
    samples = circuit.sample(20000, seed=0)
    frequency_one = samples.float().mean(1)
    expected = torch.sin(theta / 2) ** 2
    # 5 standard deviations of a binomial proportion
    tolerance = 5 * torch.sqrt(expected * (1 - expected) / 20000)
    assert torch.all((frequency_one - expected).abs() < tolerance)


def test_counts_tally_samples() -> None:
    samples = torch.tensor([[0, 3, 3, 1]])
    assert qvec.sim.counts(samples) == [{0: 1, 1: 1, 3: 2}]


@pytest.mark.parametrize("shots", [0, -1, 2.5, True])
def test_bad_shots_are_refused(shots) -> None:
    with pytest.raises(ValueError, match="shots must be a positive integer"):
        qvec.Circuit(1).sample(shots)


def test_more_categories_than_multinomial_takes() -> None:
    """2**24 + 5 categories (torch.multinomial stops at 2**24), mass on a few far apart: exact frequencies."""
    support = torch.tensor([0, 2**23 + 1, 2**24 + 1, 2**24 + 4])
    expected = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    weights = torch.zeros(1, 2**24 + 5, dtype=torch.float64)
    weights[0, support] = expected
    shots = 20000
    samples = sample_indices(weights, uniform_draws(1, shots, seed=3, device=torch.device("cpu")))[0]
    assert set(samples.unique().tolist()) <= set(support.tolist())
    frequency = torch.stack([(samples == s).double().mean() for s in support])
    tolerance = 5 * torch.sqrt(expected * (1 - expected) / shots)
    assert torch.all((frequency - expected).abs() < tolerance)


def test_zero_weight_categories_are_never_drawn_even_at_the_ends() -> None:
    weights = torch.tensor([[0.0, 0.0, 1.0, 0.0, 0.0], [0.0, 0.5, 0.0, 0.5, 0.0]], dtype=torch.float64)
    edges = torch.tensor([[0.0, 1 - 2**-53], [0.0, 1 - 2**-53]], dtype=torch.float64)
    assert sample_indices(weights, edges).tolist() == [[2, 2], [1, 3]]


def test_a_row_without_probability_is_an_input_error() -> None:
    with pytest.raises(InputError, match="cannot sample row 1"):
        sample_indices(torch.tensor([[1.0, 0.0], [0.0, 0.0]]), torch.full((2, 3), 0.5, dtype=torch.float64))


def test_sampling_25_qubits() -> None:
    """A 25-qubit product state (2**25 amplitudes): H on qubits 0 and 24 gives four equally likely states."""
    circuit = qvec.Circuit(25).h(0).h(24)
    qvec.sim.set_memory_budget(3 * 2**30)  # it needs 1.5 GiB; not a share of whatever is free at the time
    try:
        samples = circuit.sample(4000, seed=11)[0]
    finally:
        qvec.sim.set_memory_budget(None)
    outcomes = [0, 1, 2**24, 2**24 + 1]
    assert set(samples.unique().tolist()) <= set(outcomes)
    frequency = torch.tensor([(samples == s).double().mean() for s in outcomes])
    assert torch.all((frequency - 0.25).abs() < 5 * (0.25 * 0.75 / 4000) ** 0.5)


@pytest.mark.parametrize("seed", ["x", 2**80, 1.5, True])
def test_bad_seeds_are_refused(seed) -> None:
    with pytest.raises(InputError, match="seed must be an integer"):
        qvec.Circuit(1).h(0).sample(10, seed=seed)


def test_chunked_sampling_gives_the_same_samples_as_one_pass() -> None:
    """The draws are made for the whole batch first, so a seed means the same samples whatever the chunking."""
    circuit = qvec.Circuit(3).ry(0, "x").cx(0, 1).h(2)
    x = torch.linspace(0.1, 3.0, 40)
    whole = circuit.sample(50, {"x": x}, seed=9)
    qvec.sim.set_memory_budget(40 * 50 * 24 + 4 * 8 * 8 * 4)  # the samples and about four rows at a time
    try:
        as_sampled = RowOutput("samples", per_row=50 * SAMPLE_BYTES_PER_SHOT, working_per_amplitude=2 * 8)
        assert qvec.sim.prepare(circuit, {"x": x}, output=as_sampled).chunk_rows < 40
        chunked = circuit.sample(50, {"x": x}, seed=9)
    finally:
        qvec.sim.set_memory_budget(None)
    assert torch.equal(chunked, whole)
