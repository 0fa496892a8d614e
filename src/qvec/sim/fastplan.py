"""Compile a circuit for the small-batch fast path: every number a step needs, laid out once.

The fast path takes circuits made of single-qubit gates (any kind qvec has) and constant
permutation gates (cx, cz, swap, ccx, ...), with parameters given as a ``ParameterStack``. Each
single-qubit gate is split into *atoms* ``M = exp(i(a0 t + b0)) P0 + exp(i(a1 t + b1)) P1`` reading at
most one angle ``t`` (a rotation is its two spectral projectors, ``p`` a projector and a phase, a
constant gate its matrix, ``u`` three atoms), so that every gate matrix of a step comes from one
gather, one ``exp`` and one batched product. Atoms are laid out ``[run position, slot]`` and slots
``[stage, qubit group, qubit]``, so that fusing runs and building kron blocks need no gather at all.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch

from qvec.circuit.gates import gate_definition
from qvec.circuit.observables import PauliString

from .measure import flip_index, phase_table
from .program import GateSpec, LayerSpec, MonomialSpec, compile_program

__all__ = ["FastPlan", "Kind", "Readout", "compile_fast_plan", "FAST_MAX_QUBITS"]

# Batch sizes whose layout indices a plan keeps (a training loop has a batch size and a last, smaller one;
# at 2**20 amplitudes one size's indices take ~80 MiB).
INDEX_BATCH_SIZES = 2
# Registers past this many qubits always take the general path (kron blocks and saved states grow as 2**n).
FAST_MAX_QUBITS = 12

# A stack's layout: each group's names and whether it has one row per batch row.
Layout = tuple[tuple[tuple[str, ...], bool], ...]
# One atom: (a0, a1, b0, b1, P0, P1, angle source) with the source ("name", name, scale) or None.
Atom = tuple[float, float, float, float, np.ndarray, np.ndarray, tuple | None]

_EYE = np.eye(2, dtype=complex)
_ZERO = np.zeros((2, 2), dtype=complex)
_IDENTITY: Atom = (0.0, 0.0, 0.0, 0.0, _EYE, _ZERO, None)
_P0, _P1 = np.diag([1.0, 0.0]).astype(complex), np.diag([0.0, 1.0]).astype(complex)


@dataclass(frozen=True)
class Kind:
    """The numbers of one kind of stage (shared by the batch, or per row): how to build its kron blocks.

    Angles are ``table[..., index]`` where ``table`` is the kind's stacked groups side by side;
    ``coef [A, 2]`` (``a``) and ``offset [A, 2]`` (``b``, or None) give each atom's two phases;
    ``projectors [A, 2, 4]`` its matrices and ``derivative`` (``i a * projectors``) their derivatives. Atoms are ``[length, slots]``; slots are grouped by block size ``classes = ((size, count), ...)``.
    """

    groups: tuple[int, ...]
    width: int
    index: torch.Tensor
    coef: torch.Tensor
    offset: torch.Tensor | None
    ones: torch.Tensor
    projectors: torch.Tensor
    derivative: torch.Tensor
    length: int
    classes: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Readout:
    """Pauli strings sharing one X/Y mask: ``flip`` (None for mask 0) and their phase table ``[2**n, k]``.

    For mask 0 ``table`` is real with each row twice (it multiplies ``|re|^2, |im|^2`` side by side);
    ``back`` is ``2 * table.mT`` of the plain table (conjugated for a mask), for the backward pass.
    """

    positions: tuple[int, ...]
    flip: torch.Tensor | None
    table: torch.Tensor
    back: torch.Tensor


@dataclass(frozen=True)
class FastPlan:
    """A compiled circuit: the two kinds' numbers, the evolution ``ops`` and the readouts.

    The register is split in two groups, ``low`` (qubits ``0 .. n_low - 1``) and ``high`` (the rest).
    ``ops`` are ``("layer", per_row, ((class, index, high), ...))`` (kron blocks of the shared or per-row
    kind on the low or high group) or ``("perm", source, phase)`` (a merged monomial on the whole register).
    """

    n_qubits: int
    n_low: int
    dtype: torch.dtype
    shared: Kind | None
    row: Kind | None
    ops: tuple[tuple, ...]
    readouts: tuple[Readout, ...]
    _indices: OrderedDict = field(default_factory=OrderedDict, compare=False, hash=False, repr=False)

    def indices(self, n_rows: int) -> tuple[list[tuple[torch.Tensor, torch.Tensor]], torch.Tensor, torch.Tensor]:
        """For a batch of ``n_rows``: each perm's gather and inverse on states ``[high, B * low]`` (``torch.take``
        indices of that shape), and the gather to rows ``[B, 2**n]`` and back (kept for the last
        ``INDEX_BATCH_SIZES`` batch sizes)."""
        if n_rows not in self._indices:
            self._indices[n_rows] = _layout_indices(self, n_rows)
            while len(self._indices) > INDEX_BATCH_SIZES:
                self._indices.popitem(last=False)
        self._indices.move_to_end(n_rows)
        return self._indices[n_rows]


def _layout_indices(plan: FastPlan, n_rows: int) -> tuple:
    low = 1 << plan.n_low
    high = (1 << plan.n_qubits) // low
    device = plan.readouts[0].table.device
    b = torch.arange(n_rows, device=device)[None, :, None]

    def at(source: torch.Tensor) -> torch.Tensor:  # flat position of amplitude source[h, l] of row b
        source = source.reshape(high, 1, low)
        return ((source // low) * n_rows + b) * low + source % low

    perms = []
    for op in plan.ops:
        if op[0] == "perm":
            inverse = torch.empty_like(op[1])
            inverse[op[1]] = torch.arange(len(op[1]), device=device)
            perms.append((at(op[1]).reshape(high, -1), at(inverse).reshape(high, -1)))
    y = torch.arange(high * low, device=device)
    to_rows = at(y).permute(1, 0, 2).reshape(n_rows, -1)
    from_rows = (b * (high * low) + y.reshape(high, 1, low)).reshape(high, -1)
    return perms, to_rows, from_rows


def _rotation_atom(generator: np.ndarray, source: tuple[str, object]) -> Atom:
    plus, minus = (_EYE + generator) / 2, (_EYE - generator) / 2
    if source[0] == "const":
        return (0.0, 0.0, -0.5 * source[1], 0.5 * source[1], plus, minus, None)
    return (-0.5, 0.5, 0.0, 0.0, plus, minus, source)


def _phase_atom(source: tuple[str, object]) -> Atom:
    if source[0] == "const":
        return (0.0, 0.0, 0.0, float(source[1]), _P0, _P1, None)
    return (0.0, 1.0, 0.0, 0.0, _P0, _P1, source)


def _gate_atoms(name: str, sources: tuple[tuple[str, object], ...]) -> list[Atom] | None:
    """The atoms of one single-qubit gate, first applied first; None for a gate the fast path does not know."""
    definition = gate_definition(name)
    if definition.n_params == 0:
        return [(0.0, 0.0, 0.0, 0.0, definition.build(torch.zeros(0, dtype=torch.float64)).numpy(), _ZERO, None)]
    if definition.generator is not None:
        return [_rotation_atom(definition.generator.numpy(), sources[0])]
    if name == "p":
        return [_phase_atom(sources[0])]
    if name == "u":  # u(theta, phi, lam) = p(phi) ry(theta) p(lam), exactly
        ry = gate_definition("ry").generator.numpy()
        return [_phase_atom(sources[2]), _rotation_atom(ry, sources[0]), _phase_atom(sources[1])]
    return None


def _source_of(source: tuple[str, object]) -> tuple[str, float] | None:
    kind, value = source
    if kind == "name":
        return (value, 1.0)
    if kind == "scaled":
        return value
    return None


def _scaled(atom: Atom) -> Atom:
    """Fold a ``ScaledParameter``'s scale into the atom's coefficients."""
    a0, a1, b0, b1, p0, p1, source = atom
    if source is None:
        return atom
    name, scale = _source_of(source)
    return (a0 * scale, a1 * scale, b0, b1, p0, p1, name)


def _atoms_of(gates: tuple[GateSpec, ...], ops: Sequence[int]) -> list[Atom] | None:
    atoms: list[Atom] = []
    for op in ops:
        name, _, sources = gates[op]
        gate_atoms = _gate_atoms(name, sources)
        if gate_atoms is None:
            return None
        atoms.extend(_scaled(a) for a in gate_atoms)
    return atoms


def _halves(n_qubits: int) -> list[tuple[int, int, bool]]:
    """``(start, size, high)`` of the low and the high qubit group (the high one is empty for one qubit)."""
    n_low = n_qubits - n_qubits // 2
    return [(0, n_low, False)] + ([(n_low, n_qubits - n_low, True)] if n_qubits > 1 else [])


def _build_kind(stages: list[dict[int, list[Atom]]], n_qubits: int, columns: dict[str, int], groups: tuple[int, ...],
                width: int, dtype: torch.dtype, device: torch.device) -> tuple[Kind, list[tuple]]:
    """The kind's atom tables, and for each stage its ``(class, index, high)`` blocks."""
    by_size: dict[int, list[list[list[Atom]]]] = {}
    placements: list[list[tuple[int, int, bool]]] = []
    for stage in stages:
        placed = []
        for start, size, high in _halves(n_qubits):
            qubits = range(start + size - 1, start - 1, -1)  # most significant first, as a kron takes them
            if any(q in stage for q in qubits):
                slots = by_size.setdefault(size, [])
                placed.append((size, len(slots), high))
                slots.append([stage.get(q, []) for q in qubits])
        placements.append(placed)
    sizes = sorted(by_size)
    flat = [run for size in sizes for block in by_size[size] for run in block]
    length = max(1, max(map(len, flat)))
    atoms = [run[j] if j < len(run) else _IDENTITY for j in range(length) for run in flat]
    real = torch.float64 if dtype == torch.complex128 else torch.float32
    coef = torch.tensor([[a[0], a[1]] for a in atoms], dtype=real, device=device)
    offsets = [[a[2], a[3]] for a in atoms]
    offset = torch.tensor(offsets, dtype=real, device=device) if np.any(offsets) else None
    projectors = torch.tensor(np.stack([np.stack([a[4].reshape(4), a[5].reshape(4)]) for a in atoms]), dtype=dtype,
                              device=device)
    index = torch.tensor([columns[a[6]] if a[6] is not None else 0 for a in atoms], device=device)
    classes = tuple((size, len(by_size[size])) for size in sizes)
    kind = Kind(groups, width, index, coef, offset, torch.ones_like(coef), projectors,
                1j * coef.unsqueeze(-1) * projectors, length, classes)
    class_of = {size: c for c, size in enumerate(sizes)}
    return kind, [tuple((class_of[size], i, high) for size, i, high in placed) for placed in placements]


def _readouts(strings: tuple[PauliString, ...], n_qubits: int, dtype: torch.dtype, real: torch.dtype,
              device: torch.device) -> tuple[Readout, ...]:
    by_mask: dict[int, list[int]] = {}
    for position, string in enumerate(strings):
        x_mask, y_mask, _ = string.masks()
        by_mask.setdefault(x_mask | y_mask, []).append(position)
    readouts = []
    for mask, positions in by_mask.items():
        table = phase_table(tuple(strings[p] for p in positions), n_qubits).to(device)
        table = table.real.to(real) if mask == 0 else table.to(dtype)
        flip = None if mask == 0 else flip_index(n_qubits, mask, device)
        forward = table.repeat_interleave(2, dim=0) if mask == 0 else table
        back = (2 * table.mT).contiguous()
        readouts.append(Readout(tuple(positions), flip, forward, back if mask == 0 else back.conj().resolve_conj()))
    return tuple(readouts)


def _perm_op(spec: MonomialSpec, n_qubits: int, dtype: torch.dtype, device: torch.device) -> tuple | None:
    if spec.wires != tuple(range(n_qubits - 1, -1, -1)):
        return None
    source = torch.as_tensor(spec.source, device=device)
    return ("perm", source, None if spec.phase is None else torch.as_tensor(spec.phase, dtype=dtype, device=device))


def _split_stages(program, gates: tuple[GateSpec, ...], row_ops: frozenset[int]) -> list | None:
    """Program steps as ``("layer", per_row, {qubit: atoms})`` (a mixed layer split in two) and monomials."""
    steps: list = []
    for spec in program.steps:
        if isinstance(spec, MonomialSpec):
            steps.append(("monomial", spec))
            continue
        if not isinstance(spec, LayerSpec):
            return None
        for per_row in (True, False):
            runs = {w: run for w, run in zip(spec.wires, spec.runs) if (run[0] in row_ops) == per_row}
            if not runs:
                continue
            atoms = {w: _atoms_of(gates, run) for w, run in runs.items()}
            if any(a is None for a in atoms.values()):
                return None
            steps.append(("layer", per_row, atoms))
    return steps


def compile_fast_plan(n_qubits: int, gates: tuple[GateSpec, ...], layout: Layout, strings: tuple[PauliString, ...],
                      dtype: torch.dtype, device: torch.device) -> FastPlan | None:
    """The fast plan of a circuit for a stack ``layout``, or None when the circuit needs the general path."""
    if n_qubits > FAST_MAX_QUBITS or n_qubits == 0:
        return None
    where = {name: (g, per_row) for g, (names, per_row) in enumerate(layout) for name in names}
    row_ops = set()
    for index, (_, _, sources) in enumerate(gates):
        named = [_source_of(s) for s in sources if s[0] in ("name", "scaled")]
        if any(s[0] == "tensor" for s in sources) or any(n not in where for n, _ in named):
            return None
        kinds = {where[n][1] for n, _ in named}
        if len(kinds) > 1:  # a gate reading both shared and per-row names
            return None
        if kinds == {True}:
            row_ops.add(index)
    program = compile_program(n_qubits, gates, frozenset(row_ops))
    steps = _split_stages(program, gates, frozenset(row_ops))
    if steps is None:
        return None
    kinds: dict[bool, Kind | None] = {True: None, False: None}
    placements: dict[bool, list] = {}
    for per_row in (True, False):
        stages = [s[2] for s in steps if s[0] == "layer" and s[1] == per_row]
        groups = tuple(g for g, (_, r) in enumerate(layout) if r == per_row)
        widths = [len(layout[g][0]) for g in groups]
        columns = {name: sum(widths[:i]) + j for i, g in enumerate(groups) for j, name in enumerate(layout[g][0])}
        if stages:
            kinds[per_row], placements[per_row] = _build_kind(stages, n_qubits, columns, groups, sum(widths), dtype,
                                                              device)
    ops: list[tuple] = []
    seen = {True: 0, False: 0}
    for step in steps:
        if step[0] == "monomial":
            op = _perm_op(step[1], n_qubits, dtype, device)
            if op is None:
                return None
            ops.append(op)
            continue
        ops.append(("layer", step[1], placements[step[1]][seen[step[1]]]))
        seen[step[1]] += 1
    if not ops or ops[0][0] != "layer":
        return None  # the plan starts from a product state
    real = torch.float64 if dtype == torch.complex128 else torch.float32
    readouts = _readouts(strings, n_qubits, dtype, real, device)
    return FastPlan(n_qubits, _halves(n_qubits)[0][1], dtype, kinds[False], kinds[True], tuple(ops), readouts)
