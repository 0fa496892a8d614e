"""Build the numbers of a fused program: every gate matrix of a type in one vectorized call.

Shared gates give matrices ``[k, d, d]``; per-row gates give ``[B, k, d, d]``. Runs of
single-qubit gates are multiplied out position by position across all runs of a length.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import torch

from qvec.circuit.gates import gate_definition
from qvec.circuit.parameters import ParameterBatch

from .program import GateSpec, Program

__all__ = ["GateMatrices", "build_gate_matrices", "fuse_runs"]


def _angle_value(source: tuple[str, object], batch: ParameterBatch, tensors: list[torch.Tensor]) -> torch.Tensor | float:
    kind, value = source
    if kind == "name":
        return batch.values[value]
    if kind == "tensor":
        return tensors[value]
    return value


def _stack_angles(gates: list[GateSpec], batch: ParameterBatch, tensors: list[torch.Tensor],
                  rows: int | None, real: torch.dtype, device: torch.device) -> torch.Tensor:
    """Angles of ``gates`` as ``[k, p]`` (shared) or ``[rows, k, p]`` (per row)."""
    values = [_angle_value(s, batch, tensors) for _, _, sources in gates for s in sources]
    k, p = len(gates), len(gates[0][2])
    if all(not isinstance(v, torch.Tensor) for v in values):
        angles = torch.tensor(values, dtype=real, device=device)
    else:
        shape = () if rows is None else (rows,)
        angles = torch.stack([v.to(device=device, dtype=real).expand(shape) if isinstance(v, torch.Tensor)
                              else torch.full(shape, v, dtype=real, device=device) for v in values], -1)
    return angles.reshape(k, p) if rows is None else angles.reshape(rows, k, p)


@dataclass
class GateMatrices:
    """Where each op's matrix lives: ``location[op] = (tensor, position)``; per-row tensors have a batch axis."""

    location: dict[int, tuple[torch.Tensor, int]]

    def matrix(self, op: int) -> torch.Tensor:
        tensor, position = self.location[op]
        return tensor[position] if tensor.dim() == 3 else tensor[:, position]


def build_gate_matrices(program: Program, batch: ParameterBatch, tensors: list[torch.Tensor], rows: int | None,
                        real: torch.dtype, device: torch.device, ops: list[int]) -> GateMatrices:
    """Matrices of ``ops``, one ``build`` call per gate type; ``rows`` is None for shared ops."""
    groups: dict[str, list[int]] = defaultdict(list)
    for index in ops:
        groups[program.gates[index][0]].append(index)
    location: dict[int, tuple[torch.Tensor, int]] = {}
    for name, members in groups.items():
        angles = _stack_angles([program.gates[i] for i in members], batch, tensors, rows, real, device)
        matrices = gate_definition(name).build(angles)
        location.update({op: (matrices, position) for position, op in enumerate(members)})
    return GateMatrices(location)


def _pool(runs: list[tuple[int, ...]], matrices: GateMatrices, rows: int | None) -> tuple[torch.Tensor, dict[int, int]]:
    """All single-qubit matrices the runs use, concatenated on one axis, and each op's position."""
    tensors: list[torch.Tensor] = []
    offsets: dict[int, int] = {}
    position: dict[int, int] = {}
    for op in dict.fromkeys(op for run in runs for op in run):
        tensor, index = matrices.location[op]
        if id(tensor) not in offsets:
            offsets[id(tensor)] = sum(t.shape[-3] for t in tensors)
            shared = tensor.dim() == 3
            tensors.append(tensor.expand(rows, *tensor.shape) if shared and rows is not None else tensor)
        position[op] = offsets[id(tensor)] + index
    return torch.cat(tensors, dim=-3), position


def fuse_runs(runs: list[tuple[int, ...]], matrices: GateMatrices, rows: int | None) -> torch.Tensor:
    """The product of each run (later gates on the left): ``[R, 2, 2]``, or ``[rows, R, 2, 2]`` per row."""
    pool, position = _pool(runs, matrices, rows)
    by_length: dict[int, list[int]] = defaultdict(list)
    for run_index, run in enumerate(runs):
        by_length[len(run)].append(run_index)
    parts, order = [], []
    for length, members in sorted(by_length.items()):
        index = torch.tensor([[position[op] for op in runs[r]] for r in members], device=pool.device)
        product = pool.index_select(-3, index[:, 0])
        for j in range(1, length):
            product = pool.index_select(-3, index[:, j]) @ product
        parts.append(product)
        order.extend(members)
    fused = torch.cat(parts, dim=-3) if len(parts) > 1 else parts[0]
    if order != sorted(order):
        fused = fused.index_select(-3, torch.tensor(sorted(range(len(order)), key=order.__getitem__), device=pool.device))
    return fused
