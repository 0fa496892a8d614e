"""``run_photonic``: a photonic circuit and a batch of parameter rows on a photonic backend."""

from __future__ import annotations

from typing import Any, Mapping

import torch

from qvec.backends.base import DifferentiatesNatively, gradients_requested
from qvec.backends.resolve import resolve_photonic_backend
from qvec.circuit.parameters import ParamValue
from qvec.errors import InputError
from qvec.photonic.circuit import Circuit as PhotonicCircuit
from qvec.photonic.state import FockState

__all__ = ["run_photonic"]


def run_photonic(circuit: PhotonicCircuit, params: Mapping[str, ParamValue] | None, *, cutoff: int | None = None,
                 dtype: torch.dtype = torch.complex64, device: Any = None, backend: Any = None,
                 renormalize: bool = False, truncation_tol: float | None = None) -> FockState:
    """The batched Fock state of ``circuit`` for ``params`` on ``backend`` (the local Fock simulator by default).

    Gradients flow only through a backend that ``DifferentiatesNatively``; parameters that require grad
    on any other are an ``InputError`` rather than a state that silently stops the training.
    """
    if not isinstance(circuit, PhotonicCircuit):
        raise InputError(f"run_photonic takes a qvec.photonic.Circuit, got {type(circuit).__name__}")
    backend = resolve_photonic_backend(backend)
    if gradients_requested(circuit, params) and not isinstance(backend, DifferentiatesNatively):
        raise InputError(f"{backend!r} returns photonic states without gradients, but a parameter requires grad: "
                         "run on backend='local', or evaluate under torch.no_grad()")
    return backend.run_photonic(circuit, params, cutoff=cutoff, dtype=dtype, device=device, renormalize=renormalize,
                                truncation_tol=truncation_tol)
