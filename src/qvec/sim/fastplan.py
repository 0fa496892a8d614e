"""Compile a circuit for the small-batch fast path: every number a step needs, laid out once.

The fast path takes circuits made of single-qubit gates (any kind qvec has) and constant
permutation gates (cx, cz, swap, ccx, ...), with parameters given as a ``ParameterStack``. Each
single-qubit gate is split into *atoms* ``M = exp(i(a0 t + b0)) P0 + exp(i(a1 t + b1)) P1`` reading at
most one angle ``t`` (a rotation is its two spectral projectors, ``p`` a projector and a phase, a
constant gate its matrix, ``u`` three atoms). Multiplied out, a run of atoms on one qubit is a sum of
*terms* ``exp(i c.t) M``: a phase linear in the angles times a constant matrix (a run of up to
``MAX_TERMS`` terms is one *unit*, a longer one a product of units). So every fused gate of a step comes
from one gather-and-sum of angles, one ``cos`` and ``sin`` and one weighted sum of constant matrices, and
each angle's gradient from the same terms. Units are laid out ``[unit position, slot]`` and slots
``[stage, qubit group, qubit]``, so that fusing and building kron blocks need no gather. Every number is
a numpy array: the fast path runs in numpy on the CPU (``fastpath``).
"""

from __future__ import annotations

import functools
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

# A unit holds at most this many terms (a run of four rotations on one qubit); a longer run is a product of units.
MAX_TERMS = 16
# A kind whose map from table columns to term phases has at most this many entries keeps it dense: one product
# each way instead of a gather and a sum (forward) and a bincount (backward), which a wide table pays for
# in work proportional to its width (docs/performance.md, "Small batches").
DENSE_MAX_ENTRIES = 2**16

# A stack's layout: each group's names and whether it has one row per batch row.
Layout = tuple[tuple[tuple[str, ...], bool], ...]
# One atom: (a0, a1, b0, b1, P0, P1, angle source) with the source ("name", name, scale) or None.
Atom = tuple[float, float, float, float, np.ndarray, np.ndarray, tuple | None]

_EYE = np.eye(2, dtype=complex)
_ZERO = np.zeros((2, 2), dtype=complex)
# One term: its angle coefficients by name, and its constant matrix (constant phases folded in).
Term = tuple[dict[str, float], np.ndarray]
_P0, _P1 = np.diag([1.0, 0.0]).astype(complex), np.diag([0.0, 1.0]).astype(complex)


@dataclass(frozen=True)
class Kind:
    """The numbers of one kind of stage (shared by the batch, or per row): how to build its kron blocks.

    ``table`` is the kind's stacked groups side by side (``width`` columns). Term ``j`` has the phase
    ``sum_k table[..., columns[k, j]] * coefs[k, j]`` (``table @ dense`` where the map is kept dense) and the
    matrix ``terms[u, t]`` (``j = u * T + t``; a unit's missing terms are zero). Units are ``[length, slots]``;
    slots are grouped by block size ``classes = ((size, count), ...)``, and ``traces[c]`` maps a block of class
    ``c`` to the partial traces that leave each of its qubits (``[d * d, size * 4]``): the backward pass reads
    each slot's gradient from them.
    """

    groups: tuple[int, ...]
    width: int
    columns: np.ndarray
    coefs: np.ndarray
    terms: np.ndarray
    length: int
    classes: tuple[tuple[int, int], ...]
    traces: tuple[np.ndarray, ...]
    dense: np.ndarray | None


@dataclass(frozen=True)
class Readout:
    """Pauli strings sharing one X/Y mask: ``flip`` (None for mask 0) and their phase table ``[2**n, k]``.

    For mask 0 ``table`` is real with each row twice (it multiplies ``|re|^2, |im|^2`` side by side);
    ``back`` is ``2 * table.mT`` of the plain table (conjugated for a mask), for the backward pass.
    """

    positions: tuple[int, ...]
    flip: np.ndarray | None
    table: np.ndarray
    back: np.ndarray


@dataclass(frozen=True)
class FastPlan:
    """A compiled circuit: the two kinds' numbers, the evolution ``ops`` and the readouts.

    The register is split in two groups, ``low`` (qubits ``0 .. n_low - 1``) and ``high`` (the rest).
    ``ops`` are ``("layer", per_row, ((class, index, high), ...))`` (kron blocks of the shared or per-row
    kind on the low or high group) or ``("perm", source, phase)`` (a merged monomial on the whole register).
    ``order`` puts the readouts' columns back in the strings' order (None for one readout).
    """

    n_qubits: int
    n_low: int
    dtype: np.dtype
    shared: Kind | None
    row: Kind | None
    ops: tuple[tuple, ...]
    readouts: tuple[Readout, ...]
    order: np.ndarray | None
    _indices: OrderedDict = field(default_factory=OrderedDict, compare=False, hash=False, repr=False)
    _earliest: dict = field(default_factory=dict, compare=False, hash=False, repr=False)
    # The step written out as code (``fastcode.step_functions``), by (one row, the stack groups' needs).
    steps: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @functools.cached_property
    def real(self) -> np.dtype:
        """The real dtype of the angles and of the values."""
        return _real(self.dtype)

    @functools.cached_property
    def kept_states(self) -> int:
        """The states a step keeps for its backward pass, and a few working ones, in units of one state."""
        return sum(len(op[2]) for op in self.ops if op[0] == "layer") + 4

    def earliest_layer(self, shared: bool, per_row: bool) -> int:
        """The index in ``ops`` of the first layer of a kind whose gradient is wanted (0 when none is): the
        backward pass stops there."""
        if (shared, per_row) not in self._earliest:
            want = {False: shared, True: per_row}
            layers = [k for k, op in enumerate(self.ops) if op[0] == "layer" and want[op[1]]]
            self._earliest[shared, per_row] = min(layers, default=0)
        return self._earliest[shared, per_row]

    def indices(self, n_rows: int) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray, np.ndarray]:
        """For a batch of ``n_rows``: each perm's gather and inverse on states ``[high, B * low]`` (flat
        positions, shaped as the state), and the gather to rows ``[B, 2**n]`` and back (kept for the last
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
    b = np.arange(n_rows)[None, :, None]

    def at(source: np.ndarray) -> np.ndarray:  # flat position of amplitude source[h, l] of row b
        source = source.reshape(high, 1, low)
        return ((source // low) * n_rows + b) * low + source % low

    perms = []
    for op in plan.ops:
        if op[0] == "perm":
            inverse = np.argsort(op[1])
            perms.append((at(op[1]).reshape(high, -1), at(inverse).reshape(high, -1)))
    y = np.arange(high * low)
    to_rows = at(y).transpose(1, 0, 2).reshape(n_rows, -1)
    from_rows = (b * (high * low) + y.reshape(high, 1, low)).reshape(high, -1)
    return perms, to_rows, from_rows


def _real(dtype: np.dtype) -> np.dtype:
    return np.dtype(np.float64 if dtype == np.complex128 else np.float32)


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


def _times(atom: Atom, terms: list[Term]) -> list[Term]:
    """``atom @ (the sum of terms)`` as a sum of terms; terms with the same coefficients are merged, zeros dropped."""
    merged: dict[tuple, Term] = {}
    for k in (0, 1):
        a, matrix = atom[k], np.exp(1j * atom[2 + k]) * atom[4 + k]
        for coefs, m in terms:
            new = dict(coefs)
            if atom[6] is not None and a != 0:
                new[atom[6]] = new.get(atom[6], 0.0) + a
                if new[atom[6]] == 0:
                    del new[atom[6]]
            key = tuple(sorted(new.items()))
            product = matrix @ m
            merged[key] = (new, merged[key][1] + product if key in merged else product)
    return [term for term in merged.values() if np.abs(term[1]).max() > 1e-12]


def _units(run: list[Atom]) -> list[list[Term]]:
    """A run's atoms (first applied first) as units of at most ``MAX_TERMS`` terms, first applied first."""
    units, terms = [], [({}, _EYE)]
    for atom in run:
        grown = _times(atom, terms)
        if len(grown) > MAX_TERMS:
            units.append(terms)
            grown = _times(atom, [({}, _EYE)])
        terms = grown
    return units + [terms]


def _trace_map(size: int, dtype: np.dtype) -> np.ndarray:
    """``[d * d, size * 4]``: a flattened ``d x d`` block (``d = 2**size``) to the ``2 x 2`` partial traces over all
    its qubits but one, for each qubit (the first the most significant, as the kron takes them)."""
    d = 1 << size
    i, j = np.arange(d)[:, None], np.arange(d)[None, :]
    traces = np.zeros((d, d, size, 4))
    for position in range(size):
        shift = size - 1 - position
        rest = ((i ^ j) & ~(1 << shift)) == 0  # equal on every other qubit
        slot = ((i >> shift) & 1) * 2 + ((j >> shift) & 1)
        traces[..., position, :] = rest[..., None] * (slot[..., None] == np.arange(4))
    return traces.reshape(d * d, size * 4).astype(dtype)


def _term_tables(units: list[list[Term]], columns: dict[str, int], dtype: np.dtype) -> tuple[np.ndarray, ...]:
    """``columns``, ``coefs`` ``[K, U * T]`` and ``terms`` ``[U, T, 4]`` of the units (missing ones zero)."""
    n_terms = max(map(len, units))
    n_coefs = max((len(coefs) for unit in units for coefs, _ in unit), default=0)
    index = np.zeros((len(units), n_terms, n_coefs), dtype=np.intp)
    coefs = np.zeros((len(units), n_terms, n_coefs), dtype=_real(dtype))
    terms = np.zeros((len(units), n_terms, 4), dtype=dtype)
    for u, unit in enumerate(units):
        for t, (term_coefs, matrix) in enumerate(unit):
            terms[u, t] = matrix.reshape(4)
            for k, (name, a) in enumerate(sorted(term_coefs.items())):
                index[u, t, k], coefs[u, t, k] = columns[name], a
    shape = (len(units) * n_terms, n_coefs)  # stored [K, U * T]: the sum over K then adds whole rows
    return (np.ascontiguousarray(index.reshape(shape).T), np.ascontiguousarray(coefs.reshape(shape).T), terms)


def _dense_map(columns: np.ndarray, coefs: np.ndarray, width: int) -> np.ndarray | None:
    """``[width, U * T]``: the term phases as ``table @ map`` (None past ``DENSE_MAX_ENTRIES``)."""
    if width * columns.shape[1] > DENSE_MAX_ENTRIES:
        return None
    dense = np.zeros((width, columns.shape[1]), dtype=coefs.dtype)
    np.add.at(dense, (columns, np.broadcast_to(np.arange(columns.shape[1]), columns.shape)), coefs)
    return dense


def _build_kind(stages: list[dict[int, list[Atom]]], n_qubits: int, columns: dict[str, int], groups: tuple[int, ...],
                width: int, dtype: np.dtype) -> tuple[Kind, list[tuple]]:
    """The kind's term tables, and for each stage its ``(class, index, high)`` blocks."""
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
    chained = [_units(run) for size in sizes for block in by_size[size] for run in block]
    length = max(map(len, chained))
    units = [run[j] if j < len(run) else [({}, _EYE)] for j in range(length) for run in chained]
    index, coefs, terms = _term_tables(units, columns, dtype)
    kind = Kind(groups, width, index, coefs, terms, length, tuple((size, len(by_size[size])) for size in sizes),
                tuple(_trace_map(size, dtype) for size in sizes), _dense_map(index, coefs, width))
    class_of = {size: c for c, size in enumerate(sizes)}
    return kind, [tuple((class_of[size], i, high) for size, i, high in placed) for placed in placements]


def _readouts(strings: tuple[PauliString, ...], n_qubits: int, dtype: np.dtype) -> tuple[Readout, ...]:
    by_mask: dict[int, list[int]] = {}
    for position, string in enumerate(strings):
        x_mask, y_mask, _ = string.masks()
        by_mask.setdefault(x_mask | y_mask, []).append(position)
    readouts = []
    for mask, positions in by_mask.items():
        table = phase_table(tuple(strings[p] for p in positions), n_qubits).numpy()
        table = table.real.astype(_real(dtype)) if mask == 0 else table.astype(dtype)
        flip = None if mask == 0 else flip_index(n_qubits, mask, torch.device("cpu")).numpy()
        forward = np.repeat(table, 2, axis=0) if mask == 0 else table
        back = np.ascontiguousarray(2 * (table.T if mask == 0 else table.T.conj()))
        readouts.append(Readout(tuple(positions), flip, forward, back))
    return tuple(readouts)


def _perm_op(spec: MonomialSpec, n_qubits: int, dtype: np.dtype) -> tuple | None:
    if spec.wires != tuple(range(n_qubits - 1, -1, -1)):
        return None
    return ("perm", np.asarray(spec.source, dtype=np.intp), None if spec.phase is None else spec.phase.astype(dtype))


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
                      dtype: torch.dtype) -> FastPlan | None:
    """The fast plan of a circuit for a stack ``layout`` at state precision ``dtype`` (complex64 or complex128),
    or None when the circuit needs the general path."""
    if n_qubits > FAST_MAX_QUBITS or n_qubits == 0:
        return None
    dtype = np.dtype(np.complex128 if dtype == torch.complex128 else np.complex64)
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
            kinds[per_row], placements[per_row] = _build_kind(stages, n_qubits, columns, groups, sum(widths), dtype)
    ops: list[tuple] = []
    seen = {True: 0, False: 0}
    for step in steps:
        if step[0] == "monomial":
            op = _perm_op(step[1], n_qubits, dtype)
            if op is None:
                return None
            ops.append(op)
            continue
        ops.append(("layer", step[1], placements[step[1]][seen[step[1]]]))
        seen[step[1]] += 1
    if not ops or ops[0][0] != "layer":
        return None  # the plan starts from a product state
    readouts = _readouts(strings, n_qubits, dtype)
    order = None if len(readouts) == 1 else np.argsort([p for readout in readouts for p in readout.positions])
    return FastPlan(n_qubits, _halves(n_qubits)[0][1], dtype, kinds[False], kinds[True], tuple(ops), readouts, order)
