"""``run_photonic``: a photonic circuit and a batch of parameter rows on a photonic backend; ``expect_photonic``:
their ``<x_phi>`` and ``<n>`` readouts."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch

from qvec.backends.base import DifferentiatesNatively, ReadsPhotonicExpectations, gradients_requested
from qvec.backends.resolve import resolve_photonic_backend
from qvec.circuit.parameters import ParamValue
from qvec.errors import InputError
from qvec.photonic.circuit import Circuit as PhotonicCircuit
from qvec.photonic.expectations import Form, read
from qvec.photonic.state import FockState

__all__ = ["expect_photonic", "run_photonic"]


def run_photonic(circuit: PhotonicCircuit, params: Mapping[str, ParamValue] | None, *, cutoff: int | None = None,
                 dtype: torch.dtype = torch.complex64, device: Any = None, backend: Any = None,
                 renormalize: bool = False, truncation_tol: float | None = None) -> FockState:
    """The batched Fock state of ``circuit`` for ``params`` on ``backend`` (the local Fock simulator by default)."""
    backend = _checked_backend(circuit, params, backend, "run_photonic")
    return backend.run_photonic(circuit, params, cutoff=cutoff, dtype=dtype, device=device, renormalize=renormalize,
                                truncation_tol=truncation_tol)


def expect_photonic(circuit: PhotonicCircuit, params: Mapping[str, ParamValue] | None, forms: Sequence[Form], *,
                    cutoff: int | None = None, dtype: torch.dtype = torch.complex64, device: Any = None,
                    backend: Any = None, renormalize: bool = False, truncation_tol: float | None = None) -> torch.Tensor:
    """``Re <psi|H_k|psi>`` ``[B, K]`` for each form on the output of ``run_photonic`` with the same arguments: read
    by a backend that ``ReadsPhotonicExpectations`` (the local one runs circuit and readouts as one node), else from
    the state ``run_photonic`` returns."""
    backend = _checked_backend(circuit, params, backend, "expect_photonic")
    options = {"cutoff": cutoff, "dtype": dtype, "device": device, "renormalize": renormalize,
               "truncation_tol": truncation_tol}
    if isinstance(backend, ReadsPhotonicExpectations):
        return backend.expect_photonic(circuit, params, forms, **options)
    return read(backend.run_photonic(circuit, params, **options), forms)


def _checked_backend(circuit: Any, params: Mapping[str, ParamValue] | None, backend: Any, caller: str) -> Any:
    """The backend named or given, once it is known to give gradients wherever a parameter requires them.

    Gradients flow only through a backend that ``DifferentiatesNatively``; parameters that require grad
    on any other are an ``InputError`` rather than a state that silently stops the training."""
    if not isinstance(circuit, PhotonicCircuit):
        raise InputError(f"{caller} takes a qvec.photonic.Circuit, got {type(circuit).__name__}")
    backend = resolve_photonic_backend(backend)
    if gradients_requested(circuit, params) and not isinstance(backend, DifferentiatesNatively):
        raise InputError(f"{backend!r} returns photonic states without gradients, but a parameter requires grad: "
                         "run on backend='local', or evaluate under torch.no_grad()")
    return backend
