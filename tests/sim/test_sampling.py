"""Sampling: reproducible with a seed, distributed as the probabilities say."""

from __future__ import annotations

import pytest
import torch

import qvec


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
