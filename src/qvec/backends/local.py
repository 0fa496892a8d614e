"""The local simulators as backend objects: ``qvec.sim`` for qubits, ``qvec.photonic`` for modes."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch

from qvec import sim
from qvec.circuit import Circuit
from qvec.circuit.parameters import ParamValue
from qvec.photonic.simulate import expect as expect_photonic
from qvec.photonic.simulate import simulate as simulate_photonic

from .base import DifferentiatesNatively, ReadsPhotonicExpectations, RunsPhotonicBatches, RunsQubitBatches

__all__ = ["LocalBackend", "LocalPhotonicBackend"]


class LocalBackend(RunsQubitBatches, DifferentiatesNatively):
    """Runs a batch as one vectorized pass of ``qvec.sim`` (the default backend); autograd flows through it."""

    name = "local"

    def probs(self, circuit: Circuit, params: Mapping[str, ParamValue] | None, *,
              dtype: torch.dtype = torch.complex64, device: Any = None) -> torch.Tensor:
        return sim.probs(circuit, params, dtype=dtype, device=device)

    def expval(self, circuit: Circuit, observables: Sequence[str], params: Mapping[str, ParamValue] | None, *,
               dtype: torch.dtype = torch.complex64, device: Any = None) -> torch.Tensor:
        return sim.expval(circuit, observables, params, dtype=dtype, device=device)

    def sample(self, circuit: Circuit, shots: int, params: Mapping[str, ParamValue] | None, *,
               seed: int | None = None, dtype: torch.dtype = torch.complex64, device: Any = None) -> torch.Tensor:
        return sim.sample(circuit, shots, params, seed=seed, dtype=dtype, device=device)

    def statevector(self, circuit: Circuit, params: Mapping[str, ParamValue] | None, *,
                    dtype: torch.dtype = torch.complex64, device: Any = None) -> torch.Tensor:
        """The final states ``[B, 2**n]``; only a local simulator has them to give."""
        return sim.simulate(circuit, params, dtype=dtype, device=device)

    def __repr__(self) -> str:
        return "LocalBackend()"


class LocalPhotonicBackend(RunsPhotonicBatches, ReadsPhotonicExpectations, DifferentiatesNatively):
    """Runs a photonic batch as one vectorized pass of the local Fock-space engine; autograd flows through it."""

    name = "local"

    def run_photonic(self, circuit: Any, params: Mapping[str, ParamValue] | None, *, cutoff: int | None = None,
                     dtype: torch.dtype = torch.complex64, device: Any = None, renormalize: bool = False,
                     truncation_tol: float | None = None) -> Any:
        return simulate_photonic(circuit, params, cutoff=cutoff, dtype=dtype, device=device, renormalize=renormalize,
                        truncation_tol=truncation_tol)

    def expect_photonic(self, circuit: Any, params: Mapping[str, ParamValue] | None, forms: Sequence[Any], *,
                        cutoff: int | None = None, dtype: torch.dtype = torch.complex64, device: Any = None,
                        renormalize: bool = False, truncation_tol: float | None = None) -> torch.Tensor:
        return expect_photonic(circuit, params, forms, cutoff=cutoff, dtype=dtype, device=device,
                               renormalize=renormalize, truncation_tol=truncation_tol)

    def __repr__(self) -> str:
        return "LocalPhotonicBackend()"
