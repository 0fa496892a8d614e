"""Apply materialized steps to a batch of row states ``[N, 2**n]`` (qubit 0 the least significant bit).

A batch of rows can be the state of B circuits or, to build a dense operator, the rows of
an identity: ``state @ R`` equals applying the same steps to every state.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatch

import torch

__all__ = ["Step", "Layer", "Gate", "Monomial", "Dense", "apply_step", "apply_single", "apply_gate", "kron_layer"]

# A layer of single-qubit gates is applied as one kron-product matrix (a GEMM) when the register
# is at most this wide and the rows are few; otherwise one small contraction per qubit.
KRON_MAX_QUBITS = 10
KRON_MAX_ROWS = 64


@dataclass
class Layer:
    """Fused single-qubit matrices ``[w, 2, 2]`` (shared) or ``[N, w, 2, 2]`` (per row) on distinct wires."""

    wires: tuple[int, ...]
    matrices: torch.Tensor


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


def apply_single(rows: torch.Tensor, matrix: torch.Tensor, wire: int) -> torch.Tensor:
    """Apply a 2x2 (shared ``[2, 2]`` or per-row ``[N, 2, 2]``) to qubit ``wire``."""
    n_rows, dim = rows.shape
    low = 1 << wire
    if matrix.dim() == 2:
        if wire == 0:
            return (rows.reshape(-1, 2) @ matrix.mT).reshape(n_rows, dim)
        return torch.matmul(matrix, rows.reshape(-1, 2, low)).reshape(n_rows, dim)
    viewed = rows.reshape(n_rows, -1, 2, low)
    return torch.matmul(matrix[:, None], viewed).reshape(n_rows, dim)


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


def kron_layer(matrices: torch.Tensor, wires: tuple[int, ...], n_qubits: int) -> torch.Tensor:
    """The full-register matrix of a shared layer: kron over qubits n-1 .. 0, identity where no gate acts."""
    eye = torch.eye(2, dtype=matrices.dtype, device=matrices.device)
    position = {w: i for i, w in enumerate(wires)}
    result = None
    for qubit in range(n_qubits - 1, -1, -1):
        factor = matrices[position[qubit]] if qubit in position else eye
        if result is None:
            result = factor
        else:
            size = result.shape[-1] * 2
            result = (result[:, None, :, None] * factor[None, :, None, :]).reshape(size, size)
    return result


Step = Layer | Gate | Monomial | Dense


@singledispatch
def apply_step(step: object, rows: torch.Tensor, n_qubits: int) -> torch.Tensor:
    raise TypeError(f"no kernel for step {type(step).__name__}")


@apply_step.register
def _(step: Layer, rows: torch.Tensor, n_qubits: int) -> torch.Tensor:
    shared = step.matrices.dim() == 3
    if shared and n_qubits <= KRON_MAX_QUBITS and rows.shape[0] <= KRON_MAX_ROWS:
        return rows @ kron_layer(step.matrices, step.wires, n_qubits).mT
    for i, wire in enumerate(step.wires):
        rows = apply_single(rows, step.matrices[i] if shared else step.matrices[:, i], wire)
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
