"""Compile a circuit into a fused program: the structure of a simulation, without numbers.

Runs of single-qubit gates are fused into one 2x2 per qubit and gathered into layers
(gates on distinct qubits); consecutive constant gates that permute basis states with phases
(cx, cz, swap, ccx, ...) are merged into one ``Monomial``, built from each gate's action on the
wires it touches, never over the whole ``2**n`` register. The program depends only on the
circuit's structure and on which angles are per-row, so it is cached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Hashable

import numpy as np
import torch

from qvec.circuit.gates import gate_definition

__all__ = ["GateSpec", "LayerSpec", "GateStepSpec", "MonomialSpec", "Program", "compile_program"]

# (gate name, wires, per-angle source) where a source is ("const", value) | ("name", str) | ("tensor", i)
GateSpec = tuple[str, tuple[int, ...], tuple[tuple[str, object], ...]]

# Consecutive constant permutation gates merge into one table over the wires they touch, up to this
# many wires (a table of 2**16 entries costs little to build); a larger run becomes several tables.
MONOMIAL_MAX_QUBITS = 16


@dataclass(frozen=True)
class LayerSpec:
    """Fused single-qubit runs on distinct qubits: ``runs[i]`` lists the op indices on ``wires[i]``."""

    wires: tuple[int, ...]
    runs: tuple[tuple[int, ...], ...]
    per_row: bool


@dataclass(frozen=True)
class GateStepSpec:
    """One multi-qubit gate with angles (its matrix is built at run time)."""

    op_index: int
    wires: tuple[int, ...]
    per_row: bool


@dataclass(frozen=True, eq=False)
class MonomialSpec:
    """Constant gates merged into ``new[.., y] = phase[y] * old[.., source[y]]`` on ``wires``.

    ``y`` indexes the basis of ``wires`` alone (``wires[0]`` its most significant bit, as for a gate
    matrix), so a merge costs ``2**len(wires)`` per gate, never ``2**n``.
    """

    wires: tuple[int, ...]
    source: np.ndarray
    phase: np.ndarray | None
    per_row: bool = False


Step = LayerSpec | GateStepSpec | MonomialSpec


@dataclass(frozen=True)
class Program:
    n_qubits: int
    gates: tuple[GateSpec, ...]
    steps: tuple[Step, ...]
    row_ops: frozenset[int]
    _memo: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def memo(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """Index plans derived from the program's structure, computed once per program."""
        if key not in self._memo:
            with torch.inference_mode(False):  # a plan made during inference_mode must serve autograd later
                self._memo[key] = compute()
        return self._memo[key]


def _is_monomial(matrix: np.ndarray) -> bool:
    return bool(((np.abs(matrix) > 1e-12).sum(axis=1) == 1).all())


def _monomial_of(name: str, bits: tuple[int, ...], n_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Source index and phase of a monomial gate on ``bits`` (bit positions) of an ``n_bits`` register."""
    matrix = _constant_matrix(name)
    column = np.abs(matrix).argmax(axis=1)
    y = np.arange(2**n_bits)
    local_row = np.zeros_like(y)
    for bit in bits:
        local_row = (local_row << 1) | ((y >> bit) & 1)
    local_col = column[local_row]
    x = y.copy()
    for position, bit in enumerate(reversed(bits)):
        chosen = (local_col >> position) & 1
        x = (x & ~(1 << bit)) | (chosen << bit)
    return x, matrix[local_row, local_col]


def _constant_matrix(name: str) -> np.ndarray:
    return gate_definition(name).build(torch.zeros(0, dtype=torch.float64)).numpy()


def _merged_monomial(gates: list[tuple[str, tuple[int, ...]]], wires: tuple[int, ...]) -> MonomialSpec:
    """The product of monomial ``gates`` (in order) on ``wires``, built on the ``2**len(wires)`` basis of those."""
    bit_of = {wire: len(wires) - 1 - position for position, wire in enumerate(wires)}
    source, phase = np.arange(2 ** len(wires)), np.ones(2 ** len(wires), dtype=complex)
    for name, gate_wires in gates:
        gate_source, gate_phase = _monomial_of(name, tuple(bit_of[w] for w in gate_wires), len(wires))
        source, phase = source[gate_source], gate_phase * phase[gate_source]
    return MonomialSpec(wires, source, None if np.allclose(phase, 1) else phase)


def _pieces(run: list[int], row_ops: frozenset[int]) -> list[tuple[int, ...]]:
    """Split a run where it changes between shared and per-row gates.

    Layers are then all-shared or led by per-row pieces, so shared gates stay batch-free
    (one GEMM, or part of a dense operator) instead of being multiplied into every row.
    """
    pieces: list[list[int]] = []
    for op in run:
        if pieces and (op in row_ops) == (pieces[-1][-1] in row_ops):
            pieces[-1].append(op)
        else:
            pieces.append([op])
    return [tuple(p) for p in pieces]


def _monomial_wires(gates: list[tuple[str, tuple[int, ...]]], n_qubits: int) -> tuple[int, ...]:
    """The wires a merged monomial acts on, most significant first: the whole register when it is small."""
    if n_qubits <= MONOMIAL_MAX_QUBITS:
        return tuple(range(n_qubits - 1, -1, -1))
    return tuple(sorted({w for _, wires in gates for w in wires}, reverse=True))


@lru_cache(maxsize=256)
def compile_program(n_qubits: int, gates: tuple[GateSpec, ...], row_ops: frozenset[int]) -> Program:
    """Fuse ``gates`` into layers, multi-qubit gate steps and merged monomials."""
    steps: list[Step] = []
    pending: dict[int, list[int]] = {}
    monomial: list[tuple[str, tuple[int, ...]]] = []

    def flush_layer() -> None:
        pieces = {w: _pieces(run, row_ops) for w, run in sorted(pending.items())}
        for depth in range(max(map(len, pieces.values()), default=0)):
            wires = tuple(w for w, p in pieces.items() if depth < len(p))
            runs = tuple(pieces[w][depth] for w in wires)
            steps.append(LayerSpec(wires, runs, any(i in row_ops for run in runs for i in run)))
        pending.clear()

    def flush_monomial() -> None:
        if monomial:
            steps.append(_merged_monomial(monomial, _monomial_wires(monomial, n_qubits)))
            monomial.clear()

    for index, (name, wires, sources) in enumerate(gates):
        definition = gate_definition(name)
        if definition.n_qubits == 1:
            flush_monomial()
            pending.setdefault(wires[0], []).append(index)
            continue
        flush_layer()
        if definition.n_params == 0 and _is_monomial(_constant_matrix(name)):
            if len({w for _, ws in monomial for w in ws} | set(wires)) > MONOMIAL_MAX_QUBITS:
                flush_monomial()
            monomial.append((name, wires))
            continue
        flush_monomial()
        steps.append(GateStepSpec(index, wires, index in row_ops))
    flush_layer()
    flush_monomial()
    return Program(n_qubits, gates, tuple(steps), row_ops)
