"""The fast path's numbers, piece by piece: kron blocks of a kind from its table and back, the product state
that starts a step and its gradient, and the readout and its gradient (the exact VJP of each beside it).

Gradients are carried conjugated (``mu``), so that no step needs a conjugated copy. ``fastcode`` writes a
plan's step out of these pieces and the state updates between them.
"""

from __future__ import annotations

import functools

import numpy as np

from .fastplan import FastPlan, Kind

__all__ = ["build", "build_back", "first_column", "kron", "product_back", "product_state", "read", "read_back",
           "swap", "unit"]


def swap(matrices: np.ndarray) -> np.ndarray:
    """The transpose of the last two axes (a view)."""
    return np.swapaxes(matrices, -1, -2)


# ----- fused gates and kron blocks of one kind, and the angles' gradients from the blocks' --------------

def kron(factors: np.ndarray) -> np.ndarray:
    """The kron of ``factors [..., k, a, a]`` over ``k`` (the first the most significant), pairs at a time."""
    k = factors.shape[-3]
    if k == 1:
        return factors[..., 0, :, :]
    if k % 2:
        return kron_pair(kron(factors[..., :-1, :, :]), factors[..., -1, :, :])
    return kron(kron_pair(factors[..., 0::2, :, :], factors[..., 1::2, :, :]))


def kron_pair(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    da, db = a.shape[-1], b.shape[-1]
    return (a[..., :, None, :, None] * b[..., None, :, None, :]).reshape(*a.shape[:-2], da * db, da * db)


def build(kind: Kind, table: np.ndarray, saved: dict) -> list[np.ndarray]:
    """The kind's kron blocks, ``[count, d, d]`` (or ``[B, count, d, d]`` per row) per block size."""
    lead = table.shape[:-1]
    theta = table @ kind.dense if kind.dense is not None else (table[..., kind.columns] * kind.coefs).sum(-2)
    phases = np.empty(theta.shape, dtype=kind.terms.dtype)
    np.cos(theta, out=phases.real)
    np.sin(theta, out=phases.imag)
    n_units, n_terms = kind.terms.shape[:2]
    units = (phases.reshape(*lead, n_units, 1, n_terms) @ kind.terms).reshape(*lead, kind.length, -1, 2, 2)
    if kind.length == 1:  # one unit per slot: the fused gates themselves
        positions = partial = [units[..., 0, :, :, :]]
    else:
        positions = [units[..., j, :, :, :] for j in range(kind.length)]
        partial = [positions[0]]
        for unit in positions[1:]:
            partial.append(unit @ partial[-1])
    saved.update(lead=lead, phases=phases, positions=positions, partial=partial)
    blocks, start = [], 0
    for size, count in kind.classes:
        blocks.append(kron(partial[-1][..., start:start + size * count, :, :].reshape(*lead, count, size, 2, 2)))
        start += size * count
    return blocks


def build_back(kind: Kind, saved: dict, traced: list[np.ndarray]) -> np.ndarray:
    """The table's gradient ``[..., width]`` from ``U^T G`` of each block (``G`` its conjugated gradient; as
    ``build`` returned the blocks).

    For a kron block ``U`` of unitary factors ``F_q``, the partial trace of ``U^T G`` over all qubits but ``q``
    is ``F_q^T G_q``, so ``G_q = conj(F_q) @ trace``: no factor's gradient needs the others.
    """
    lead = saved["lead"]
    per_class = [(h.reshape(*lead, count, -1) @ trace).reshape(*lead, count * size, 2, 2)
                 for h, trace, (size, count) in zip(traced, kind.traces, kind.classes)]
    partial = saved["partial"]
    grad = partial[-1].conj() @ (per_class[0] if len(per_class) == 1 else np.concatenate(per_class, -3))
    grad_units = grad if kind.length == 1 else _units_back(grad, partial, saved["positions"])
    n_units, n_terms = kind.terms.shape[:2]
    per_term = (kind.terms @ grad_units.reshape(*lead, n_units, 4, 1)).reshape(*lead, -1)
    grad_theta = -(saved["phases"] * per_term).imag  # d/dtheta of exp(i theta) M, read against the gradient
    if kind.dense is not None:
        return grad_theta @ kind.dense.T
    flows = (grad_theta[..., None, :] * kind.coefs).reshape(*lead, -1)
    if not lead:
        return np.bincount(kind.columns.reshape(-1), flows, minlength=kind.width).astype(flows.dtype, copy=False)
    rows = np.arange(lead[0])[:, None] * kind.width + kind.columns.reshape(1, -1)
    return np.bincount(rows.reshape(-1), flows.reshape(-1), minlength=lead[0] * kind.width).reshape(
        lead[0], kind.width).astype(flows.dtype, copy=False)


def _units_back(grad: np.ndarray, partial: list[np.ndarray], positions: list[np.ndarray]) -> np.ndarray:
    """Each unit's gradient ``[..., length, slots, 2, 2]`` from the gradient of their product ``partial[-1]``."""
    per_unit = []
    for j in range(len(positions) - 1, 0, -1):  # partial[j] = positions[j] @ partial[j - 1]
        per_unit.append(grad @ swap(partial[j - 1]))
        grad = swap(positions[j]) @ grad
    per_unit.append(grad)
    return np.stack(per_unit[::-1], -4)


# ----- the product state that starts a step (states are [high, B, low], kept as matrices [high, B * low]) ----

@functools.lru_cache(maxsize=64)
def unit(dim: int, dtype: np.dtype) -> np.ndarray:
    """|0> of ``dim`` amplitudes (read only: shared by every step)."""
    unit = np.zeros(dim, dtype=dtype)
    unit[0] = 1
    unit.flags.writeable = False
    return unit


def first_column(block: np.ndarray | None, dim: int, like: np.ndarray) -> np.ndarray:
    """What a group's block makes of |0>: its first column, or |0> itself where the group has no block."""
    if block is not None:
        return block[..., :, 0]
    return np.broadcast_to(unit(dim, like.dtype), (*like.shape[:-2], dim))


def product_state(vectors: tuple[np.ndarray, np.ndarray], n_rows: int, per_row: bool) -> np.ndarray:
    high, low = vectors
    if per_row:
        return (high.T[:, :, None] * low[None]).reshape(high.shape[-1], -1)
    state = high[:, None] * low[None, :]
    return state if n_rows == 1 else np.repeat(state, n_rows, axis=0).reshape(high.shape[-1], -1)


def product_back(mu: np.ndarray, vectors: tuple[np.ndarray, np.ndarray], n_rows: int,
                  per_row: bool) -> tuple[np.ndarray, np.ndarray]:
    """Conjugated gradients of the two vectors of a product state, from the state's ``mu``."""
    high, low = vectors
    if n_rows == 1 and not per_row:
        return mu @ low, high @ mu
    mu3 = mu.reshape(high.shape[-1], n_rows, low.shape[-1])
    if per_row:
        return (mu3 * low[None]).sum(-1).T, (mu3 * high.T[:, :, None]).sum(0)
    summed = mu3.sum(1)
    return summed @ low, high @ summed


# ----- readout ---------------------------------------------------------------------------------------

def read(plan: FastPlan, psi: np.ndarray) -> np.ndarray:
    """The Pauli strings' expectation values ``[B, k]`` of row states ``[B, 2**n]``."""
    columns = []
    for readout in plan.readouts:
        if readout.flip is None:  # |psi|^2 @ table, from the interleaved real and imaginary parts
            columns.append(np.square(np.ascontiguousarray(psi).view(plan.real)) @ readout.table)
        else:
            columns.append((psi[:, readout.flip].conj() * psi @ readout.table).real)
    if plan.order is None:
        return columns[0]
    return np.concatenate(columns, axis=1)[:, plan.order]


def read_back(plan: FastPlan, psi: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """The conjugated VJP of ``read``: ``conj(2 sum_k g_k P_k psi)``."""
    conj = psi.conj()
    mu = None
    for readout in plan.readouts:
        g = grad if plan.order is None else grad[:, list(readout.positions)]
        if readout.flip is None:
            term = conj * (g @ readout.back)
        else:
            term = ((g @ readout.back) * conj)[:, readout.flip]
        mu = term if mu is None else mu + term
    return mu
