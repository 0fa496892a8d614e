"""run_photonic: the photonic path of the execution layer."""

from __future__ import annotations

import pytest
import torch

import qvec
from qvec.errors import InputError
from qvec.backends import DifferentiatesNatively, RunsPhotonicBatches
from qvec.execute import expect_photonic, run_photonic
from qvec.photonic import simulate
from qvec.photonic.expectations import Form


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


class StatesOnly(RunsPhotonicBatches, DifferentiatesNatively):
    """A backend that hands over states and reads nothing itself."""

    name = "states-only"

    def run_photonic(self, circuit, params, **options):
        return simulate(circuit, params, **options)


def test_expect_photonic_reads_the_state_of_a_backend_that_does_not_read_expectations() -> None:
    """The local backend reads <x_phi> and <n> itself (one node with the circuit); another backend's state is read
    by the forms: the same values and gradients, against FockState's own reads."""
    circuit = qvec.photonic.Circuit(2).d(0, "z", 0.0).s(1, "r", 0.0).bs(0, 1, 0.7, 0.2).k(0, 0.05)
    z = torch.tensor([0.1, 0.4, -0.3], dtype=torch.float64, requires_grad=True)
    r = torch.tensor(0.2, dtype=torch.float64, requires_grad=True)
    forms = (Form(1), Form(0, 0.4, 2.0))
    state = simulate(circuit, {"z": z, "r": r}, cutoff=8, dtype=torch.complex128)
    expected = torch.stack([state.mean_photon(1), state.quad_expectation(0, 0.4)], -1)
    for backend in ("local", StatesOnly()):
        got = expect_photonic(circuit, {"z": z, "r": r}, forms, cutoff=8, dtype=torch.complex128, backend=backend)
        assert torch.allclose(got, expected, atol=1e-12)
        mine = torch.autograd.grad(got.sum(), [z, r])
        theirs = torch.autograd.grad(expected.sum(), [z, r], retain_graph=True)
        assert all(torch.allclose(a, b, atol=1e-12) for a, b in zip(mine, theirs))


def test_expect_photonic_refuses_what_run_photonic_refuses() -> None:
    with pytest.raises(InputError, match="expect_photonic takes a qvec.photonic.Circuit, got Circuit"):
        expect_photonic(qvec.Circuit(1), None, (Form(0),))
