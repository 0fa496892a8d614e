"""The local backends: the qubit and photonic simulators as declared backend objects."""

from __future__ import annotations

import pytest
import torch

import qvec
from qvec.backends import (DifferentiatesNatively, LocalBackend, LocalPhotonicBackend, RunsPhotonicBatches,
                           RunsQubitBatches)
from qvec.errors import InputError


def test_the_local_backends_declare_what_they_can_do() -> None:
    assert isinstance(LocalBackend(), RunsQubitBatches) and isinstance(LocalBackend(), DifferentiatesNatively)
    assert not isinstance(LocalBackend(), RunsPhotonicBatches)
    photonic = LocalPhotonicBackend()
    assert isinstance(photonic, RunsPhotonicBatches) and isinstance(photonic, DifferentiatesNatively)
    assert not isinstance(photonic, RunsQubitBatches)


def test_local_qubit_backend_values_and_gradients() -> None:
    theta = torch.tensor([0.2, 1.4], dtype=torch.float64, requires_grad=True)
    circuit = qvec.Circuit(1).ry(0, "t")
    values = LocalBackend().expval(circuit, ["Z0"], {"t": theta}, dtype=torch.complex128)
    (grad,) = torch.autograd.grad(values.sum(), theta)
    torch.testing.assert_close(values[:, 0], theta.detach().cos())
    torch.testing.assert_close(grad, -theta.detach().sin())
    state = LocalBackend().statevector(circuit, {"t": theta.detach()}, dtype=torch.complex128)
    torch.testing.assert_close(state.real, torch.stack([(theta.detach() / 2).cos(), (theta.detach() / 2).sin()], 1))


def _displaced(backend) -> tuple[torch.Tensor, torch.Tensor]:
    r = torch.tensor([0.3, 0.6], dtype=torch.float64, requires_grad=True)
    state = qvec.photonic.Circuit(1).d(0, "r", 0.0).run({"r": r}, cutoff=12, dtype=torch.complex128, backend=backend)
    return r, state.mean_photon(0)


@pytest.mark.parametrize("backend", [None, "local", LocalPhotonicBackend()])
def test_local_photonic_backend_runs_with_gradients(backend) -> None:
    """<n> of a coherent state is |alpha|**2 = r**2, so d<n>/dr = 2 r (textbook)."""
    r, mean = _displaced(backend)
    (grad,) = torch.autograd.grad(mean.sum(), r)
    torch.testing.assert_close(mean, r.detach() ** 2, atol=1e-8, rtol=0)
    torch.testing.assert_close(grad, 2 * r.detach(), atol=1e-6, rtol=0)


class StatesOnly(RunsPhotonicBatches):
    """A photonic backend that declares it runs photonic batches, but gives states without gradients."""

    name = "states-only"

    def run_photonic(self, circuit, params, *, cutoff, dtype, device, renormalize, truncation_tol):
        with torch.no_grad():
            return LocalPhotonicBackend().run_photonic(circuit, params, cutoff=cutoff, dtype=dtype, device=device,
                                                       renormalize=renormalize, truncation_tol=truncation_tol)

    def __repr__(self) -> str:
        return "StatesOnly()"


def test_a_photonic_backend_without_native_gradients_refuses_parameters_that_require_grad() -> None:
    with pytest.raises(InputError, match="StatesOnly\\(\\) returns photonic states without gradients"):
        _displaced(StatesOnly())
    with torch.no_grad():
        _, mean = _displaced(StatesOnly())
    assert mean.tolist() == pytest.approx([0.09, 0.36], abs=1e-8)
