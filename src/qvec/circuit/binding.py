"""Binding parameter rows: turn a circuit template and a batch of values into concrete circuits.

The template was checked when it was built, so binding does not check each bound gate again: the
angles of all rows are gathered into one float64 table ``[B, slots]`` (one column per parameterized
angle), checked finite in one pass, and each row's operations are the template's with that row's values.
"""

from __future__ import annotations

from typing import Mapping

import torch

from qvec.errors import InputError

from .circuit import Circuit
from .operation import Operation
from .parameters import Angle, ParamValue, ScaledParameter, bind_parameters

__all__ = ["bind_rows"]


def bind_rows(circuit: Circuit, params: Mapping[str, ParamValue] | None = None) -> list[Circuit]:
    """One circuit with float angles per parameter row, in row order (B circuits)."""
    batch = bind_parameters(circuit.parameters, params, circuit.tensor_angles())
    operations = list(circuit)
    # The operations with a parameterized angle; each takes all its angles from a run of table columns.
    bound = [i for i, op in enumerate(operations) if not all(isinstance(a, float) for a in op.angles)]
    if not bound:
        return [Circuit._from_checked(circuit.n_qubits, list(operations)) for _ in range(batch.batch_size)]
    slots = [(i, j) for i in bound for j in range(len(operations[i].angles))]
    table = _angle_table(operations, slots, batch.values, batch.batch_size)
    _check_finite(table, operations, slots)
    starts = [0]
    for i in bound:
        starts.append(starts[-1] + len(operations[i].angles))
    recipe = [(i, operations[i].gate, operations[i].wires, a, b) for i, a, b in zip(bound, starts, starts[1:])]
    return [Circuit._from_checked(circuit.n_qubits, _bound_ops(operations, recipe, row)) for row in table.tolist()]


def _column(angle: Angle, values: Mapping[str, torch.Tensor], rows: int) -> torch.Tensor:
    """One angle's values for every row, float64 ``[rows]`` (products in float64, as Python floats would be)."""
    if isinstance(angle, float):
        value = torch.tensor(angle, dtype=torch.float64)
    elif isinstance(angle, str):
        value = values[angle].detach().to(torch.float64)
    elif isinstance(angle, ScaledParameter):
        value = angle.scale * values[angle.name].detach().to(torch.float64)
    else:
        value = angle.detach().to(torch.float64)
    return value.cpu().expand(rows) if value.dim() == 0 else value.cpu()


def _angle_table(operations: list[Operation], slots: list[tuple[int, int]], values: Mapping[str, torch.Tensor],
                 rows: int) -> torch.Tensor:
    """The values of the angles in ``slots`` (operation, angle), ``[rows, len(slots)]`` float64."""
    return torch.stack([_column(operations[i].angles[j], values, rows) for i, j in slots], dim=1)


def _check_finite(table: torch.Tensor, operations: list[Operation], slots: list[tuple[int, int]]) -> None:
    """Bound angles must be finite (a finite value times a scale can overflow); name the first that is not."""
    bad = ~torch.isfinite(table)
    if bool(bad.any()):
        row, column = (int(k) for k in bad.nonzero()[0])
        op = operations[slots[column][0]]
        raise InputError(f"angle {slots[column][1]} of {op.gate} on qubits {op.wires} is {table[row, column].item()} "
                         f"at row {row}; angles must be finite")


def _bound_ops(operations: list[Operation], recipe: list[tuple[int, str, tuple[int, ...], int, int]],
               row: list[float]) -> list[Operation]:
    """The template's operations, those in ``recipe`` (index, gate, wires, first and end column) with this row's angles."""
    ops = list(operations)
    for i, gate, wires, start, stop in recipe:
        ops[i] = Operation(gate, wires, tuple(row[start:stop]))
    return ops
