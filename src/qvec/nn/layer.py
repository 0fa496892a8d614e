"""``QuantumLayer``: a qubit circuit as a torch module, inputs from ``x`` and one ``nn.Parameter`` of weights."""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch
from torch import nn

from qvec.backends.resolve import resolve_backend
from qvec.circuit import Circuit
from qvec.circuit.observables import Observable, expand_observables
from qvec.circuit.parameters import ParameterStack
from qvec.errors import InputError
from qvec.execute import Expval, execute
from qvec.execute.qubit import check_options
from qvec.sim.simulate import real_dtype

from .weights import Init, check_names, initial_weights, layer_parameters

__all__ = ["QuantumLayer"]


class QuantumLayer(nn.Module):
    """Expectation values of ``observables`` after ``circuit``: ``x [..., len(inputs)] -> [..., len(observables)]``.

    ``inputs`` are fed from the last axis of ``x`` in order; ``weights`` are trained as one
    ``nn.Parameter`` of shape ``[len(weights)]``, passed whole in a ``ParameterStack`` (the local engine
    binds it by one gather, one autograd node whatever the number of weights). Every batch runs as one
    ``qvec.execute`` call, which picks the gradient method (``diff_method``) for the backend. ``init`` is
    ``"uniform"`` (on [0, 2 pi), the default), ``"normal"`` (standard deviation ``init_std``) or the initial
    values. ``seed`` fixes the initialisation and, where a forward pass draws at random (``shots``,
    ``"spsa"``), the sequence of its draws.
    """

    def __init__(self, circuit: Circuit, inputs: Sequence[str], weights: Sequence[str],
                 observables: Sequence[Observable], backend: Any = None, diff_method: str = "best",
                 shots: int | None = None, *, init: Init = "uniform", init_std: float = 0.1, seed: int | None = None,
                 dtype: torch.dtype = torch.complex64, device: Any = None) -> None:
        super().__init__()
        if not isinstance(circuit, Circuit):
            raise InputError(f"QuantumLayer takes a qubit qvec.Circuit, got {type(circuit).__name__} "
                             "(photonic circuits go in qvec.nn.PhotonicLayer)")
        check_options(diff_method, shots, seed)
        self.circuit = circuit
        self.inputs, self.weight_names = check_names(circuit.parameters, inputs, weights)
        self.measurement = Expval(observables)
        expand_observables(list(self.measurement.observables), circuit.n_qubits)  # bad observables fail here
        self.backend = resolve_backend(backend)
        self.diff_method, self.shots, self.dtype = diff_method, shots, dtype
        real = real_dtype(dtype)
        self.weights = nn.Parameter(initial_weights(len(self.weight_names), init, seed, real, std=init_std).to(device))
        draws = shots is not None or diff_method == "spsa"  # else no forward pass draws: none takes a seed
        self._draws = torch.Generator().manual_seed(seed) if seed is not None and draws else None

    @property
    def draws(self) -> torch.Generator | None:
        """The generator this layer's random draws (shots, SPSA directions) come from; None when none are
        seeded. A trainer checkpoints its state so that a resumed run draws the same sequence."""
        return self._draws

    def _next_seed(self) -> int | None:
        """A fresh seed for each forward pass's random draws, from the layer's seed (None: unseeded)."""
        return None if self._draws is None else int(torch.randint(0, 2**62, (), generator=self._draws))

    @property
    def n_outputs(self) -> int:
        return len(self.measurement.observables)

    def bindings(self, x: torch.Tensor | None) -> tuple[torch.Size, ParameterStack]:
        """The leading batch shape of ``x`` and the circuit's parameter values as a ``ParameterStack``: the
        inputs ``[B, len(inputs)]`` and ``self.weights`` whole, so that the engine binds them by one gather."""
        return layer_parameters(x, self.inputs, self.weight_names, self.weights)

    def forward(self, x: torch.Tensor | None = None) -> torch.Tensor:
        leading, params = self.bindings(x)
        values = execute(self.circuit, params, self.measurement, backend=self.backend, diff_method=self.diff_method,
                         shots=self.shots, dtype=self.dtype, device=self.weights.device, seed=self._next_seed())
        if not self.inputs:  # one row serves every row of x
            values = values.expand(math.prod(leading), self.n_outputs)
        shape = (*leading, self.n_outputs)
        return values if values.shape == shape else values.reshape(shape)  # no view node for x of [B, inputs]

    def extra_repr(self) -> str:
        return (f"n_qubits={self.circuit.n_qubits}, inputs={len(self.inputs)}, weights={len(self.weight_names)}, "
                f"outputs={self.n_outputs}, backend={self.backend!r}, diff_method={self.diff_method!r}, "
                f"shots={self.shots}")
