"""Binding parameter rows: turn a circuit template and a batch of values into concrete circuits."""

from __future__ import annotations

from typing import Mapping

import torch

from .circuit import Circuit
from .parameters import Angle, ParamValue, ScaledParameter, bind_parameters

__all__ = ["bind_rows"]


def _row_value(value: torch.Tensor, row: int) -> float:
    return float(value.detach().reshape(-1)[row if value.dim() == 1 else 0])


def _bind_angle(angle: Angle, values: Mapping[str, torch.Tensor], row: int) -> float:
    if isinstance(angle, str):
        return _row_value(values[angle], row)
    if isinstance(angle, ScaledParameter):
        return angle.scale * _row_value(values[angle.name], row)
    if isinstance(angle, torch.Tensor):
        return _row_value(angle, row)
    return float(angle)


def bind_rows(circuit: Circuit, params: Mapping[str, ParamValue] | None = None) -> list[Circuit]:
    """One circuit with float angles per parameter row, in row order (B circuits)."""
    batch = bind_parameters(circuit.parameters, params, circuit.tensor_angles())
    return [_bind_row(circuit, batch.values, row) for row in range(batch.batch_size)]


def _bind_row(circuit: Circuit, values: Mapping[str, torch.Tensor], row: int) -> Circuit:
    bound = Circuit(circuit.n_qubits)
    for op in circuit:
        bound.append(op.gate, op.wires, tuple(_bind_angle(a, values, row) for a in op.angles))
    return bound
