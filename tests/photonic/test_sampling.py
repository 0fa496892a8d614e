"""Photon-number sampling over Fock spaces larger than torch.multinomial takes (2**24 outcomes)."""

import pytest
import torch

from qvec.errors import InputError
from qvec.photonic import FockState
from qvec.sim import set_memory_budget


def test_photon_numbers_from_more_than_2_to_the_24_outcomes():
    """5 modes at cutoff 30 (24.3 million outcomes): the outcomes and their frequencies are the amplitudes' squares."""
    cutoff, n_modes = 30, 5
    outcomes = [(29, 0, 3, 29, 1), (0, 0, 0, 0, 0), (5, 29, 29, 29, 29)]
    expected = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
    ket = torch.zeros(1, *[cutoff] * n_modes, dtype=torch.complex64)
    for outcome, probability in zip(outcomes, expected):
        ket[(0, *outcome)] = probability.sqrt()
    assert cutoff**n_modes > 2**24
    shots = 20000
    samples = FockState(ket, n_modes=n_modes, cutoff=cutoff, pure=True).sample_fock(shots, seed=4)[0]
    assert samples.shape == (shots, n_modes)
    frequency = torch.stack([(samples == torch.tensor(o)).all(-1).double().mean() for o in outcomes])
    assert abs(float(frequency.sum()) - 1.0) < 1e-12  # nothing outside the support
    assert torch.all((frequency - expected).abs() < 5 * torch.sqrt(expected * (1 - expected) / shots))


def test_samples_that_do_not_fit_fail_before_sampling():
    state = FockState(torch.ones(2, 3, dtype=torch.complex64) / 3**0.5, n_modes=1, cutoff=3, pure=True)
    set_memory_budget(2**20)
    try:
        with pytest.raises(InputError, match=r"1000000 shots x B = 2 \(samples\).*lower the shots or the batch"):
            state.sample_fock(1_000_000)
        with pytest.raises(InputError, match=r"1000000 shots x B = 2 \(samples\)"):
            state.sample_homodyne(0, 1_000_000)
    finally:
        set_memory_budget(None)
