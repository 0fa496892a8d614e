"""Apply materialized steps to a batch of row states ``[N, 2**n]`` (qubit 0 the least significant bit).

A batch of rows can be the state of B circuits or, to build a dense operator, the rows of
an identity: ``state @ R`` equals applying the same steps to every state.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatch
from typing import Callable

import torch

from qvec.errors import BackendError

__all__ = [
    "Block", "Dense", "Gate", "Layer", "Monomial", "Step", "apply_block", "apply_gate", "apply_monomial", "apply_step",
    "kron_chain", "qubit_groups",
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
    """Merged constant permutation gates: ``new[.., y] = phase[y] * old[.., source[y]]`` on ``wires``.

    ``y`` indexes the basis of ``wires``, ``wires[0]`` its most significant bit (as for a ``Gate``).
    """

    wires: tuple[int, ...]
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


def _on_wires(rows: torch.Tensor, wires: tuple[int, ...], n_qubits: int,
              local: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """Apply ``local`` to the rows viewed as ``[N, rest, 2**k]``, the last axis indexing ``wires``."""
    n_rows, dim = rows.shape
    k = len(wires)
    axes = [1 + n_qubits - 1 - w for w in wires]
    last = list(range(n_qubits + 1 - k, n_qubits + 1))
    tensor = rows.reshape(n_rows, *([2] * n_qubits)).movedim(axes, last)
    moved_shape = tensor.shape
    flat = local(tensor.reshape(n_rows, -1, 2**k))
    return flat.reshape(moved_shape).movedim(last, axes).reshape(n_rows, dim)


def apply_gate(rows: torch.Tensor, matrix: torch.Tensor, wires: tuple[int, ...], n_qubits: int) -> torch.Tensor:
    """Apply a k-qubit matrix by moving its qubit axes last and contracting them."""
    if matrix.dim() == 2:
        return _on_wires(rows, wires, n_qubits, lambda flat: flat @ matrix.mT)
    return _on_wires(rows, wires, n_qubits, lambda flat: torch.bmm(flat, matrix.mT))


def apply_monomial(rows: torch.Tensor, step: Monomial, n_qubits: int) -> torch.Tensor:
    """Gather each row's amplitudes by ``step.source`` on its wires and scale them by ``step.phase``.

    Adjacent wires (highest first) are the middle axis of a plain ``[N * high, 2**k, low]`` view,
    gathered in place of a moved copy (torch gathers a 3-D tensor's middle axis fastest).
    """
    top, k = step.wires[0], len(step.wires)
    if step.wires == tuple(range(top, top - k, -1)):
        n_rows, dim = rows.shape
        permuted = rows.reshape(-1, 2**k, 2 ** (top - k + 1)).index_select(1, step.source)
        permuted = permuted if step.phase is None else permuted * step.phase[:, None]
        return permuted.reshape(n_rows, dim)

    def local(flat: torch.Tensor) -> torch.Tensor:
        permuted = flat.index_select(-1, step.source)
        return permuted if step.phase is None else permuted * step.phase

    return _on_wires(rows, step.wires, n_qubits, local)


Step = Layer | Gate | Monomial | Dense


@singledispatch
def apply_step(step: object, rows: torch.Tensor, n_qubits: int) -> torch.Tensor:
    """Apply one materialized step to row states ``[N, 2**n]``; each kind of step registers its kernel."""
    raise BackendError(f"the qubit engine has no kernel for a step of type {type(step).__name__} (a bug in qvec)")


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
    return apply_monomial(rows, step, n_qubits)


@apply_step.register
def _(step: Dense, rows: torch.Tensor, n_qubits: int) -> torch.Tensor:
    return rows @ step.operator
