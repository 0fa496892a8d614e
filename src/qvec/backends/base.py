"""The protocol every backend follows: take a batch, return results in input order.

A batch is a circuit template plus parameter values (shared scalars and per-row 1-D tensors).
Nothing above a backend knows whether it is local or remote; a backend that cannot execute
raises a ``qvec.errors.BackendError`` (or subclass) saying why, and never invents a result.
"""

from __future__ import annotations

from typing import Any, Mapping, Protocol, Sequence, runtime_checkable

import torch

from qvec.circuit import Circuit
from qvec.circuit.parameters import ParamValue

__all__ = ["Backend"]


@runtime_checkable
class Backend(Protocol):
    """What a backend can do with a batch of B parameter rows of one circuit."""

    name: str

    def probs(self, circuit: Circuit, params: Mapping[str, ParamValue] | None, *,
              dtype: torch.dtype, device: Any) -> torch.Tensor:
        """Basis-state probabilities ``[B, 2**n]``, qubit 0 the least significant bit."""

    def expval(self, circuit: Circuit, observables: Sequence[str], params: Mapping[str, ParamValue] | None, *,
               dtype: torch.dtype, device: Any) -> torch.Tensor:
        """Expectation values ``[B, len(observables)]`` of Pauli strings or weighted sums of them
        (``qvec.circuit.expand_observables`` gives the distinct strings and their weights)."""

    def sample(self, circuit: Circuit, shots: int, params: Mapping[str, ParamValue] | None, *,
               seed: int | None, dtype: torch.dtype, device: Any) -> torch.Tensor:
        """Measured basis states ``[B, shots]`` as integers."""
