"""run_photonic: the photonic path of the execution layer."""

from __future__ import annotations

import pytest
import torch

import qvec
from qvec.errors import InputError
from qvec.execute import run_photonic
from qvec.photonic import simulate


def test_run_photonic_is_the_local_fock_simulation_by_default() -> None:
    circuit = qvec.photonic.Circuit(2).d(0, "z", 0.0).s(1, 0.1, 0.0).bs(0, 1, 0.7, 0.0).k(0, 0.05)
    params = {"z": torch.tensor([0.1, 0.4, -0.3])}
    state = run_photonic(circuit, params, cutoff=8, dtype=torch.complex128)
    assert torch.equal(state.fock_probs(), simulate(circuit, params, cutoff=8, dtype=torch.complex128).fock_probs())
    assert torch.equal(circuit.run(params, cutoff=8, dtype=torch.complex128).fock_probs(), state.fock_probs())


def test_run_photonic_takes_photonic_circuits_only() -> None:
    with pytest.raises(InputError, match="run_photonic takes a qvec.photonic.Circuit, got Circuit"):
        run_photonic(qvec.Circuit(1), None)


def test_truncation_warnings_point_at_the_callers_line() -> None:
    """However many layers lie between (Circuit.run, execute, a backend), the warning names this file."""
    with pytest.warns(qvec.photonic.TruncationWarning) as caught:
        qvec.photonic.Circuit(1).d(0, 2.0).run(cutoff=5)
    assert caught[0].filename == __file__
