"""Apply materialized steps to a batch of row states ``[N, 2**n]`` (qubit 0 the least significant bit).

A batch of rows can be the state of B circuits or, to build a dense operator, the rows of
an identity: ``state @ R`` equals applying the same steps to every state.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatch

import torch

__all__ = [
    "Block", "Dense", "Gate", "Layer", "Monomial", "Step", "apply_block", "apply_gate", "apply_step", "kron_chain", "qubit_groups",
]

# A layer of single-qubit gates is applied as kron products over groups of this many adjacent
# qubits: one small matrix product per group instead of one memory pass per qubit.
GROUP_QUBITS = 4


@dataclass
class Block:
    """A matrix on the adjacent qubits ``start .. start + size - 1`` (the highest is its most significant bit)."""

    start: int
    size: int
    matrix: torch.Tensor


@dataclass
class Layer:
    """Single-qubit gates on distinct qubits, as kron-product blocks on disjoint qubit ranges."""

    blocks: tuple[Block, ...]


@dataclass
class Gate:
    """One multi-qubit matrix ``[d, d]`` or ``[N, d, d]``; ``wires[0]`` is its most significant bit."""

    wires: tuple[int, ...]
    matrix: torch.Tensor


@dataclass
class Monomial:
    """``new[:, y] = phase[y] * old[:, source[y]]``: merged constant permutation gates."""

    source: torch.Tensor
    phase: torch.Tensor | None


@dataclass
class Dense:
    """A whole segment as one operator in row form: ``new = old @ operator``."""

    operator: torch.Tensor


def apply_block(rows: torch.Tensor, matrix: torch.Tensor, start: int, size: int) -> torch.Tensor:
    """Apply a ``[2**size, 2**size]`` (or per-row ``[N, ., .]``) matrix to adjacent qubits from ``start``."""
    n_rows, dim = rows.shape
    width, low = 1 << size, 1 << start
    if matrix.dim() == 2:
        if start == 0:
            return (rows.reshape(-1, width) @ matrix.mT).reshape(n_rows, dim)
        return torch.matmul(matrix, rows.reshape(-1, width, low)).reshape(n_rows, dim)
    return torch.matmul(matrix[:, None], rows.reshape(n_rows, -1, width, low)).reshape(n_rows, dim)


def qubit_groups(n_qubits: int) -> list[tuple[int, int]]:
    """``(start, size)`` of the adjacent-qubit groups a layer is split into."""
    return [(start, min(GROUP_QUBITS, n_qubits - start)) for start in range(0, n_qubits, GROUP_QUBITS)]


def kron_chain(factors: torch.Tensor) -> torch.Tensor:
    """Kron product of ``factors [..., k, 2, 2]`` with factor 0 the most significant: ``[..., 2**k, 2**k]``.

    Each factor is viewed onto its own row and column axes and the views are multiplied by
    broadcasting, which records far fewer autograd nodes than k - 1 pairwise products.
    """
    k, batch = factors.shape[-3], factors.shape[:-3]
    result = None
    for i, factor in enumerate(factors.unbind(-3)):
        shape = [1] * (2 * k)
        shape[i] = shape[k + i] = 2
        placed = factor.reshape(*batch, *shape)
        result = placed if result is None else result * placed
    return result.reshape(*batch, 2**k, 2**k)


def apply_gate(rows: torch.Tensor, matrix: torch.Tensor, wires: tuple[int, ...], n_qubits: int) -> torch.Tensor:
    """Apply a k-qubit matrix by moving its qubit axes last and contracting them."""
    n_rows, dim = rows.shape
    k = len(wires)
    axes = [1 + n_qubits - 1 - w for w in wires]
    tensor = rows.reshape(n_rows, *([2] * n_qubits)).movedim(axes, list(range(n_qubits + 1 - k, n_qubits + 1)))
    moved_shape = tensor.shape
    flat = tensor.reshape(n_rows, -1, 2**k)
    flat = flat @ matrix.mT if matrix.dim() == 2 else torch.bmm(flat, matrix.mT)
    restored = flat.reshape(moved_shape).movedim(list(range(n_qubits + 1 - k, n_qubits + 1)), axes)
    return restored.reshape(n_rows, dim)


Step = Layer | Gate | Monomial | Dense


@singledispatch
def apply_step(step: object, rows: torch.Tensor, n_qubits: int) -> torch.Tensor:
    raise TypeError(f"no kernel for step {type(step).__name__}")


@apply_step.register
def _(step: Layer, rows: torch.Tensor, n_qubits: int) -> torch.Tensor:
    for block in step.blocks:
        rows = apply_block(rows, block.matrix, block.start, block.size)
    return rows


@apply_step.register
def _(step: Gate, rows: torch.Tensor, n_qubits: int) -> torch.Tensor:
    return apply_gate(rows, step.matrix, step.wires, n_qubits)


@apply_step.register
def _(step: Monomial, rows: torch.Tensor, n_qubits: int) -> torch.Tensor:
    permuted = rows.index_select(1, step.source)
    return permuted if step.phase is None else permuted * step.phase


@apply_step.register
def _(step: Dense, rows: torch.Tensor, n_qubits: int) -> torch.Tensor:
    return rows @ step.operator
