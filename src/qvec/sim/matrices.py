"""Build the numbers of a fused program: every gate matrix of a type in one vectorized call.

Shared gates give matrices ``[k, d, d]``; per-row gates give ``[B, k, d, d]``. Runs of
single-qubit gates are multiplied out position by position across all runs of a length.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import torch

from qvec.circuit.gates import gate_definition, pauli_rotations
from qvec.circuit.parameters import ParameterBatch, check_all_finite

from .program import GateSpec, Program

__all__ = ["GateMatrices", "build_gate_matrices", "fuse_runs"]


# The names of a batch's stacked groups, in order: with the program's structure, all an angle plan depends on.
Layout = tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class _AnglePlan:
    """Where the angles of a group of gates are read, in one table: the stacked groups used (whole), then
    the other sources (one column each), then the constants; one gather ``index`` and the ``scales``."""

    stacks: tuple[int, ...]
    singles: tuple[tuple[str, object], ...]  # ("name", name) or ("tensor", position in the tensor angles)
    consts: tuple[float, ...]
    index: torch.Tensor
    scales: torch.Tensor | None


def _angle_plan(gates: list[GateSpec], layout: Layout) -> _AnglePlan:
    stacked = {name: (g, j) for g, names in enumerate(layout) for j, name in enumerate(names)}
    offsets: dict[int, int] = {}
    singles: dict[tuple[str, object], int] = {}
    consts: list[float] = []
    slots: list[tuple[str, int]] = []
    scales: list[float] = []
    width = 0
    for _, _, sources in gates:
        for kind, value in sources:
            name, scale = (value, 1.0) if kind == "name" else value if kind == "scaled" else (None, 1.0)
            scales.append(scale)
            if name in stacked:
                group, column = stacked[name]
                if group not in offsets:
                    offsets[group], width = width, width + len(layout[group])
                slots.append(("stack", offsets[group] + column))
            elif kind == "const":
                slots.append(("const", len(consts)))
                consts.append(value)
            else:
                slots.append(("single", singles.setdefault(("tensor", value) if name is None else ("name", name), len(singles))))
    start = {"stack": 0, "single": width, "const": width + len(singles)}
    index = torch.tensor([start[kind] + position for kind, position in slots])
    scaled = torch.tensor(scales, dtype=torch.float64) if any(s != 1.0 for s in scales) else None
    return _AnglePlan(tuple(offsets), tuple(singles), tuple(consts), index, scaled)


def _stack_angles(program: Program, ops: tuple[int, ...], batch: ParameterBatch, tensors: list[torch.Tensor],
                  rows: int | None, real: torch.dtype, device: torch.device) -> torch.Tensor:
    """Angles of the gates ``ops`` as ``[k, p]`` (shared) or ``[rows, k, p]`` (per row).

    The distinct sources sit side by side in one table (a stacked parameter group enters whole, the
    other values in one stack, the constants in one tensor), read by one gather and one scale: a
    ``ParameterStack`` binds any number of gates with one autograd node.
    """
    shape = () if rows is None else (rows,)
    k, p = len(ops), len(program.gates[ops[0]][2])
    if p == 0:
        return torch.empty(*shape, k, 0, dtype=real, device=device)
    layout = tuple(names for names, _ in batch.stacks)
    plan = program.memo(("angles", ops, layout), lambda: _angle_plan([program.gates[i] for i in ops], layout))
    pieces = [batch.stacks[g][1].to(device=device, dtype=real).expand(*shape, -1) for g in plan.stacks]
    if plan.singles:
        values = [batch.values[v] if kind == "name" else tensors[v] for kind, v in plan.singles]
        if all(v.dim() == len(shape) for v in values):
            pieces.append(torch.stack(values, -1).to(device=device, dtype=real))
        else:
            pieces.append(torch.stack([v.to(device=device, dtype=real).expand(shape) for v in values], -1))
    if plan.consts:
        pieces.append(torch.tensor(plan.consts, dtype=real, device=device).expand(*shape, -1))
    table = torch.cat(pieces, -1) if len(pieces) > 1 else pieces[0]
    angles = table.index_select(-1, plan.index.to(device))
    if plan.scales is not None:
        angles = angles * plan.scales.to(device=device, dtype=real)
    if not bool(torch.isfinite(angles.detach()).all()):
        check_all_finite(batch.values)  # raises, naming the parameter and row
    return angles.reshape(k, p) if rows is None else angles.reshape(rows, k, p)


@dataclass
class GateMatrices:
    """Where each op's matrix lives: ``location[op] = (tensor, position)``; per-row tensors have a batch axis."""

    location: dict[int, tuple[torch.Tensor, int]]

    def matrix(self, op: int) -> torch.Tensor:
        tensor, position = self.location[op]
        return tensor[position] if tensor.dim() == 3 else tensor[:, position]


@dataclass(frozen=True)
class _Group:
    """Ops built by one vectorized call: a gate name, or all Pauli rotations of one width."""

    key: str
    members: tuple[int, ...]
    generators: torch.Tensor | None


def _group_key(name: str) -> str:
    definition = gate_definition(name)
    return f"rotation{definition.n_qubits}" if definition.generator is not None else name


def _groups(program: Program, ops: tuple[int, ...]) -> tuple[_Group, ...]:
    members: dict[str, list[int]] = defaultdict(list)
    for index in ops:
        members[_group_key(program.gates[index][0])].append(index)
    return tuple(
        _Group(key, tuple(ops_), torch.stack([gate_definition(program.gates[i][0]).generator for i in ops_])
               if key.startswith("rotation") else None)
        for key, ops_ in members.items()
    )


def build_gate_matrices(program: Program, batch: ParameterBatch, tensors: list[torch.Tensor], rows: int | None,
                        real: torch.dtype, device: torch.device, ops: tuple[int, ...]) -> GateMatrices:
    """Matrices of ``ops``, one vectorized build per group; ``rows`` is None for shared ops."""
    location: dict[int, tuple[torch.Tensor, int]] = {}
    for group in program.memo(("groups", ops), lambda: _groups(program, ops)):
        angles = _stack_angles(program, group.members, batch, tensors, rows, real, device)
        if group.generators is not None:
            matrices = pauli_rotations(angles[..., 0], group.generators)
        else:
            matrices = gate_definition(group.key).build(angles)
        location.update({op: (matrices, position) for position, op in enumerate(group.members)})
    return GateMatrices(location)


def _pool(ops: list[int], matrices: GateMatrices) -> tuple[torch.Tensor, dict[int, int]]:
    """The matrices of ``ops`` (all shared or all per-row) concatenated on one axis, and each op's position."""
    tensors: list[torch.Tensor] = []
    offsets: dict[int, int] = {}
    position: dict[int, int] = {}
    for op in ops:
        tensor, index = matrices.location[op]
        if id(tensor) not in offsets:
            offsets[id(tensor)] = sum(t.shape[-3] for t in tensors)
            tensors.append(tensor)
        position[op] = offsets[id(tensor)] + index
    return (torch.cat(tensors, dim=-3) if len(tensors) > 1 else tensors[0]), position


def _in_run_order(parts: list[torch.Tensor], order: list[int]) -> torch.Tensor:
    """Concatenate products computed group by group and put them back in run order."""
    fused = torch.cat(parts, dim=-3) if len(parts) > 1 else parts[0]
    if order == sorted(order):
        return fused
    inverse = sorted(range(len(order)), key=order.__getitem__)
    return fused.index_select(-3, torch.tensor(inverse, device=fused.device))


def _fuse_uniform(runs: list[tuple[int, ...]], matrices: GateMatrices) -> torch.Tensor:
    """Products of runs whose ops are all shared or all per-row, multiplied position by position."""
    pool, position = _pool(list(dict.fromkeys(op for run in runs for op in run)), matrices)
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
    return _in_run_order(parts, order)


def fuse_runs(runs: list[tuple[int, ...]], matrices: GateMatrices) -> torch.Tensor:
    """The product of each run (later gates on the left): ``[R, 2, 2]``, or ``[N, R, 2, 2]`` if any run is per row.

    Every run is all-shared or all-per-row (the program splits runs where that changes); in a
    layer that holds both kinds, the shared products are broadcast to the rows.
    """
    kinds = [matrices.location[run[0]][0].dim() == 4 for run in runs]
    groups = {kind: [i for i, k in enumerate(kinds) if k == kind] for kind in (False, True)}
    products = {kind: _fuse_uniform([runs[i] for i in members], matrices) for kind, members in groups.items() if members}
    if len(products) == 1:
        return next(iter(products.values()))
    rows = products[True].shape[0]
    shared = products[False].expand(rows, *products[False].shape)
    return _in_run_order([shared, products[True]], groups[False] + groups[True])
