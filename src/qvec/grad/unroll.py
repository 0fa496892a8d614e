"""Unrolling a batch for gradients by re-evaluation: one named column per angle occurrence.

Every angle that is not a constant (a parameter name, a scaled parameter, a tensor) becomes its
own parameter ``angle_<j>`` of a new circuit, with per-row values ``scale * value``, so one
occurrence of a shared parameter can be shifted or perturbed without the others. ``input_map``
says which differentiable input each column comes from and with what scale, so that the gradient
of an input is the sum over its occurrences of ``scale * d/d(column)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import torch

from qvec.circuit import Circuit, Operation
from qvec.circuit.parameters import ParamValue, ScaledParameter, bind_parameters
from qvec.errors import InputError

__all__ = ["Evaluate", "UnrolledBatch", "unroll"]

Evaluate = Callable[[Circuit, Mapping[str, torch.Tensor]], torch.Tensor]


@dataclass(frozen=True)
class UnrolledBatch:
    """A circuit whose non-constant angles are all columns, and the B rows of column values."""

    circuit: Circuit
    names: tuple[str, ...]
    gates: tuple[str, ...]
    """The gate each column is an angle of."""
    rows: torch.Tensor
    """``[B, M]`` float64: column ``j`` of row ``b`` is the angle ``names[j]`` has in that row."""
    inputs: tuple[torch.Tensor, ...]
    """The distinct tensors that require grad (parameter values and tensor angles)."""
    input_map: torch.Tensor
    """``[M, len(inputs)]`` float64: ``column j = input_map[j, i] * input i`` (zero if unrelated)."""

    @property
    def batch_size(self) -> int:
        return int(self.rows.shape[0])

    def differentiable_columns(self) -> list[int]:
        """The columns whose value comes from an input that requires grad (a zero scale never counts)."""
        return (self.input_map != 0).any(dim=1).nonzero().flatten().tolist()

    def evaluate(self, rows: torch.Tensor, evaluate: Evaluate, n_observables: int) -> torch.Tensor:
        """``evaluate`` on ``rows`` ``[R, M]`` in one call, each distinct row sent once; ``[R, K]`` in row order."""
        if not self.names:  # no angle varies: every row is the same circuit
            return self._call(evaluate, {}, 1, n_observables).expand(rows.shape[0], n_observables)
        distinct, inverse = torch.unique(rows, dim=0, return_inverse=True)
        columns = distinct.T.contiguous()
        values = self._call(evaluate, dict(zip(self.names, columns)), distinct.shape[0], n_observables)
        return values[inverse.to(values.device)]

    def _call(self, evaluate: Evaluate, params: dict[str, torch.Tensor], n_rows: int, n_observables: int) -> torch.Tensor:
        with torch.no_grad():
            values = evaluate(self.circuit, params)
        if not isinstance(values, torch.Tensor) or tuple(values.shape) != (n_rows, n_observables):
            shape = tuple(values.shape) if isinstance(values, torch.Tensor) else type(values).__name__
            raise InputError(f"evaluate returned {shape} for {n_rows} row(s) and {n_observables} observable(s); "
                             f"expected a tensor of shape ({n_rows}, {n_observables})")
        return values


def unroll(circuit: Circuit, params: Mapping[str, ParamValue] | None) -> UnrolledBatch:
    """Check ``params`` against ``circuit`` and give every non-constant angle occurrence its own column."""
    if not isinstance(circuit, Circuit):
        raise InputError(f"parameter-shift and SPSA take a qubit Circuit, got {type(circuit).__name__}")
    batch = bind_parameters(circuit.parameters, params, circuit.tensor_angles())
    inputs: list[torch.Tensor] = []
    input_index: dict[int, int] = {}  # by identity: a tensor used twice is one input
    operations, names, gates, columns, links = [], [], [], [], []
    for op in circuit:
        angles = []
        for angle in op.angles:
            if isinstance(angle, float):
                angles.append(angle)
                continue
            tensor, scale = _source(angle, batch.values)
            if tensor.requires_grad:
                if id(tensor) not in input_index:
                    input_index[id(tensor)] = len(inputs)
                    inputs.append(tensor)
                links.append((len(names), input_index[id(tensor)], scale))
            names.append(f"angle_{len(names)}")
            gates.append(op.gate)
            angles.append(names[-1])
            columns.append(scale * tensor.detach().to(torch.float64).expand(batch.batch_size))
        operations.append(Operation(op.gate, op.wires, tuple(angles)))
    rows = _stack(columns, batch.batch_size)
    input_map = torch.zeros(len(names), len(inputs), dtype=torch.float64)
    for column, index, scale in links:
        input_map[column, index] = scale
    return UnrolledBatch(Circuit(circuit.n_qubits, operations), tuple(names), tuple(gates), rows,
                         tuple(inputs), input_map.to(rows.device))


def _stack(columns: list[torch.Tensor], batch_size: int) -> torch.Tensor:
    """``[B, M]`` rows from M columns of B values, on the first column's device."""
    if not columns:
        return torch.zeros(batch_size, 0, dtype=torch.float64)
    return torch.stack([column.to(columns[0].device) for column in columns], dim=1)


def _source(angle: object, values: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, float]:
    """The tensor an angle takes its value from, and the factor it is scaled by."""
    if isinstance(angle, str):
        return values[angle], 1.0
    if isinstance(angle, ScaledParameter):
        return values[angle.name], angle.scale
    return angle, 1.0
