"""What a backend can do, declared: each backend subclasses the capabilities it has.

A batch is a circuit template plus parameter values (shared scalars and per-row 1-D tensors).
Nothing above a backend knows whether it is local or remote; a backend that cannot execute
raises a ``qvec.errors.BackendError`` (or subclass) saying why, and never invents a result.

The capabilities are abstract base classes, not structural protocols: a backend has one because
its class says so (a subclass, or ``Capability.register(cls)``), never because it happens to
have methods of the right names. ``qvec.execute`` checks them with ``isinstance`` and refuses
anything else with an error naming what is missing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Mapping, Sequence

import torch

from qvec.circuit import Circuit
from qvec.circuit.parameters import ParameterStack, ParamValue

__all__ = ["Backend", "DifferentiatesNatively", "ReadsPhotonicExpectations", "RunsPhotonicBatches", "RunsQubitBatches",
           "gradients_requested"]

Params = Mapping[str, ParamValue] | None


class RunsQubitBatches(ABC):
    """Runs a qubit circuit for a batch of B parameter rows; results in input order.

    A backend that does not also declare ``DifferentiatesNatively`` is called with values only
    (``qvec.execute`` computes gradients around it, by parameter shift).
    """

    name: str

    @abstractmethod
    def probs(self, circuit: Circuit, params: Params, *, dtype: torch.dtype, device: Any) -> torch.Tensor:
        """Basis-state probabilities ``[B, 2**n]``, qubit 0 the least significant bit."""

    @abstractmethod
    def expval(self, circuit: Circuit, observables: Sequence[str], params: Params, *,
               dtype: torch.dtype, device: Any) -> torch.Tensor:
        """Expectation values ``[B, len(observables)]`` of Pauli strings or weighted sums of them
        (``qvec.circuit.expand_observables`` gives the distinct strings and their weights)."""

    @abstractmethod
    def sample(self, circuit: Circuit, shots: int, params: Params, *,
               seed: int | None, dtype: torch.dtype, device: Any) -> torch.Tensor:
        """Measured basis states ``[B, shots]`` as integers."""


class RunsPhotonicBatches(ABC):
    """Runs a photonic circuit for a batch of B parameter rows: the batched Fock state."""

    name: str

    @abstractmethod
    def run_photonic(self, circuit: Any, params: Params, *, cutoff: int | None, dtype: torch.dtype, device: Any,
                     renormalize: bool, truncation_tol: float | None) -> Any:
        """The ``qvec.photonic.FockState`` of ``circuit`` (a ``qvec.photonic.Circuit``) for ``params``."""


class ReadsPhotonicExpectations(ABC):
    """Reads ``<x_phi>`` and ``<n>`` of a photonic batch itself, without handing over the state (a simulator that
    can run the circuit and its readouts as one step); ``qvec.execute`` reads them from ``run_photonic``'s state
    on any other backend."""

    @abstractmethod
    def expect_photonic(self, circuit: Any, params: Params, forms: Sequence[Any], *, cutoff: int | None,
                        dtype: torch.dtype, device: Any, renormalize: bool, truncation_tol: float | None) -> torch.Tensor:
        """``Re <psi|H_k|psi>`` ``[B, K]`` for each ``qvec.photonic.expectations.Form``, on the output of
        ``run_photonic`` with the same arguments."""


class DifferentiatesNatively(ABC):
    """The backend's results carry torch autograd graphs: gradients flow through it by backpropagation."""


# The name the protocol had before capabilities were split; a qubit backend is one that runs qubit batches.
Backend = RunsQubitBatches


def gradients_requested(circuit: Any, params: Params) -> bool:
    """Whether autograd is recording and a parameter value or a tensor angle of ``circuit`` requires grad."""
    if not torch.is_grad_enabled():
        return False
    if isinstance(params, ParameterStack):  # its groups whole: a stack's columns are made on first use
        given = [values for _, values in params.groups]
    else:
        given = params.values() if isinstance(params, Mapping) else ()  # a bad mapping is refused when bound
    values = [v for v in given if isinstance(v, torch.Tensor)]
    return any(v.requires_grad for v in [*values, *circuit.tensor_angles()])
