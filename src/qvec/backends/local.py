"""The local statevector simulator as a backend object."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch

from qvec import sim
from qvec.circuit import Circuit
from qvec.circuit.parameters import ParamValue

__all__ = ["LocalBackend"]


class LocalBackend:
    """Runs a batch as one vectorized pass of ``qvec.sim`` (the default backend)."""

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

    def __repr__(self) -> str:
        return "LocalBackend()"
