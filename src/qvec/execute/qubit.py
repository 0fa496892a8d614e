"""``execute``: a qubit circuit, a batch of parameter rows and what to measure, on a backend.

This is the one place that chooses how gradients are computed:

- ``"backprop"``: torch autograd through a backend that ``DifferentiatesNatively`` (the local simulator);
- ``"adjoint"``: ``qvec.grad.adjoint``, one autograd node for the batch (local simulator only);
- ``"parameter-shift"``: ``qvec.grad.shift``, exact for any backend, every shifted row in one batch;
- ``"spsa"``: ``qvec.grad.spsa``, a stochastic estimate for many parameters;
- ``"best"``: backprop where the backend differentiates natively and values are exact, else parameter shift.

Gradients are computed only when asked for (autograd recording and a parameter requiring grad),
and only for expectation values; anything that cannot be differentiated as asked is an ``InputError``.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import torch

from qvec.backends.base import DifferentiatesNatively, RunsQubitBatches, gradients_requested
from qvec.backends.local import LocalBackend
from qvec.backends.resolve import resolve_backend
from qvec.circuit import Circuit
from qvec.circuit.parameters import ParamValue, bind_parameters
from qvec.errors import InputError
from qvec.sim.sampling import check_seed, check_shots
from qvec.sim.simulate import real_dtype

from .measurements import Expval, Measurement, Probs, Samples
from .shots import sampled_expval, sampled_probs

__all__ = ["DIFF_METHODS", "execute", "statevector"]

DIFF_METHODS = ("best", "backprop", "adjoint", "parameter-shift", "spsa")

Params = Mapping[str, ParamValue] | None
Evaluate = Callable[[Circuit, Params], torch.Tensor]


def execute(circuit: Circuit, params: Params, measurement: Measurement, *, backend: Any = None,
            diff_method: str = "best", shots: int | None = None, dtype: torch.dtype = torch.complex64,
            device: Any = None, seed: int | None = None) -> torch.Tensor:
    """Run ``circuit`` for the parameter rows in ``params`` and measure: ``Expval`` -> ``[B, K]`` real,
    ``Probs`` -> ``[B, 2**n]``, ``Samples`` -> ``[B, shots]`` int64.

    ``shots=N`` estimates expectation values and probabilities from N samples per row (shot noise, as
    on hardware); ``seed`` makes samples and SPSA directions reproducible.
    """
    if not isinstance(circuit, Circuit):
        raise InputError(f"execute takes a qubit qvec.Circuit, got {type(circuit).__name__} "
                         "(photonic circuits run with qvec.execute.run_photonic)")
    check_options(diff_method, shots, seed)
    real_dtype(dtype)
    backend = resolve_backend(backend)
    if isinstance(measurement, Expval):
        return _expval(circuit, params, measurement, backend, diff_method, shots, dtype, device, seed)
    if isinstance(measurement, Probs):
        return _probs(circuit, params, backend, diff_method, shots, dtype, device, seed)
    if isinstance(measurement, Samples):
        if shots is not None and shots != measurement.shots:
            raise InputError(f"shots={shots} disagrees with Samples({measurement.shots}); give the shots once")
        return backend.sample(circuit, measurement.shots, params, seed=seed, dtype=dtype, device=device)
    raise InputError(f"measurement must be Expval(observables), Probs() or Samples(shots), got {measurement!r}")


def statevector(circuit: Circuit, params: Params, *, dtype: torch.dtype = torch.complex64,
                device: Any = None) -> torch.Tensor:
    """The final states ``[B, 2**n]`` of the local simulator; gradients flow by autograd."""
    return LocalBackend().statevector(circuit, params, dtype=dtype, device=device)


def _values(backend: RunsQubitBatches, observables: tuple, *, shots: int | None, seed: int | None,
            dtype: torch.dtype, device: Any) -> Evaluate:
    """``evaluate(circuit, params) -> [B, K]``: values without gradient, exact or from ``shots`` samples."""
    def evaluate(circuit: Circuit, params: Params) -> torch.Tensor:
        with torch.no_grad():
            if shots is None:
                return backend.expval(circuit, list(observables), params, dtype=dtype, device=device)
            return sampled_expval(backend, circuit, observables, params, shots=shots, seed=seed, dtype=dtype,
                                  device=device)
    return evaluate


def _expval(circuit: Circuit, params: Params, measurement: Expval, backend: RunsQubitBatches, diff_method: str,
            shots: int | None, dtype: torch.dtype, device: Any, seed: int | None) -> torch.Tensor:
    observables = measurement.observables  # checked by whatever runs first: the backend, or the gradient method
    evaluate = _values(backend, observables, shots=shots, seed=seed, dtype=dtype, device=device)
    if not gradients_requested(circuit, params):
        return evaluate(circuit, params)
    method = _gradient_method(diff_method, backend, shots)
    if method == "backprop" and diff_method == "best" and _adjoint_is_faster(circuit, params, backend):
        method = "adjoint"
    if method == "backprop":
        return backend.expval(circuit, list(observables), params, dtype=dtype, device=device)
    if method == "adjoint":
        from qvec.grad.adjoint import adjoint_expval
        return adjoint_expval(circuit, observables, params, dtype=dtype, device=device)
    if method == "parameter-shift":
        from qvec.grad.shift import shift_expval
        return shift_expval(circuit, observables, params, evaluate)
    from qvec.grad.spsa import spsa_expval
    return spsa_expval(circuit, observables, params, evaluate, seed=seed)


# Where "best" takes adjoint over backprop on the local simulator: from n = 16 qubits at B >= 64
# rows adjoint was measured faster, with about a third of the memory (bench/results/adjoint.json);
# below that its per-step Python overhead loses to autograd.
ADJOINT_MIN_QUBITS = 16
ADJOINT_MIN_ROWS = 64


def _adjoint_is_faster(circuit: Circuit, params: Params, backend: RunsQubitBatches) -> bool:
    """Whether "best" should differentiate by adjoint rather than backprop (the size is checked first: it is free)."""
    if not isinstance(backend, LocalBackend) or circuit.n_qubits < ADJOINT_MIN_QUBITS:
        return False
    rows = bind_parameters(circuit.parameters, params, circuit.tensor_angles(), check_finite=False).batch_size
    return rows >= ADJOINT_MIN_ROWS


def check_options(diff_method: str, shots: int | None, seed: int | None) -> None:
    """Refuse an unknown ``diff_method``, bad ``shots`` or ``seed`` up front (``execute`` and the layers share it)."""
    if diff_method not in DIFF_METHODS:
        raise InputError(f"unknown diff_method {diff_method!r}; accepted: {', '.join(map(repr, DIFF_METHODS))}")
    if shots is not None:
        check_shots(shots)
    check_seed(seed)


def _gradient_method(diff_method: str, backend: RunsQubitBatches, shots: int | None) -> str:
    """The method that differentiates expectation values on ``backend``, or an ``InputError`` saying why none can."""
    native = isinstance(backend, DifferentiatesNatively)
    if diff_method == "best":
        return "backprop" if native and shots is None else "parameter-shift"
    if diff_method == "backprop" and not native:
        raise InputError(f"diff_method='backprop' needs a backend whose results carry autograd, but {backend!r} returns "
                         "values only: use diff_method='parameter-shift' (or 'best')")
    if diff_method == "adjoint" and not isinstance(backend, LocalBackend):
        raise InputError(f"diff_method='adjoint' needs the local simulator's states, which {backend!r} does not give: "
                         "use diff_method='parameter-shift' (or 'best')")
    if diff_method in ("backprop", "adjoint") and shots is not None:
        raise InputError(f"diff_method={diff_method!r} differentiates exact values, not estimates from shots={shots}: "
                         "use diff_method='parameter-shift' (or 'best'), or shots=None")
    return diff_method


def _probs(circuit: Circuit, params: Params, backend: RunsQubitBatches, diff_method: str, shots: int | None,
           dtype: torch.dtype, device: Any, seed: int | None) -> torch.Tensor:
    if gradients_requested(circuit, params):
        if not isinstance(backend, DifferentiatesNatively):
            raise InputError(f"{backend!r} returns probabilities without gradients, and only expectation values are "
                             "differentiated around a backend: measure Expval, or evaluate under torch.no_grad()")
        if shots is not None or diff_method not in ("best", "backprop"):
            raise InputError(f"probabilities are differentiated by backprop of exact values only, not with "
                             f"diff_method={diff_method!r} and shots={shots}: measure Expval, or evaluate under "
                             "torch.no_grad()")
    if shots is None:
        return backend.probs(circuit, params, dtype=dtype, device=device)
    return sampled_probs(backend, circuit, params, shots=shots, seed=seed, dtype=dtype, device=device)
