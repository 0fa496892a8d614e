"""The small-batch fast path: a compiled plan run in numpy as one autograd node with a hand-written backward.

At small batches a step's cost is the number of array calls, not arithmetic, and on the CPU a numpy call
costs 0.2-3 us where a torch call costs 2-5 (docs/performance.md, "Small batches"). One
``torch.autograd.Function`` takes the stack's groups and returns the Pauli strings' values. Forward: every
gate matrix of a kind (shared or per row) from one gather, one ``exp`` and two products, runs fused by a
few batched 2x2 products, kron blocks by broadcasting, then the states: a product state, each block one
product and each merged permutation one gather. States are ``[high, B, low]`` (the two qubit groups around
the batch) kept as matrices ``[high, B * low]``, so that a shared block on either group is one plain
product. Backward walks the same steps back (the exact VJP of each, written out beside it), carrying the
conjugate of the gradient so that no step needs a conjugated copy.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch

from qvec.blas import torch_thread_count
from qvec.circuit import Circuit
from qvec.circuit.observables import ObservableTerms
from qvec.circuit.parameters import ParameterStack, check_all_finite

from .fastplan import FastPlan, Kind, compile_fast_plan
from .memory import fits_budget, resolve_device
from .simulate import PLANS

__all__ = ["FAST_MAX_AMPLITUDES", "fast_expval"]

# The fast path runs a batch when rows x 2**n is at most this (and the states it keeps fit the memory
# budget); it was measured faster than the general path up to here (docs/performance.md, "Small batches").
FAST_MAX_AMPLITUDES = 2**20
_CPU = torch.device("cpu")


def _swap(matrices: np.ndarray) -> np.ndarray:
    """The transpose of the last two axes (a view)."""
    return np.swapaxes(matrices, -1, -2)


# ----- fused gates and kron blocks of one kind, and the angles' gradients from the blocks' --------------

def _kron(factors: np.ndarray) -> np.ndarray:
    """The kron of ``factors [..., k, a, a]`` over ``k`` (the first the most significant), pairs at a time."""
    k = factors.shape[-3]
    if k == 1:
        return factors[..., 0, :, :]
    if k % 2:
        return _kron_pair(_kron(factors[..., :-1, :, :]), factors[..., -1, :, :])
    return _kron(_kron_pair(factors[..., 0::2, :, :], factors[..., 1::2, :, :]))


def _kron_pair(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    da, db = a.shape[-1], b.shape[-1]
    return (a[..., :, None, :, None] * b[..., None, :, None, :]).reshape(*a.shape[:-2], da * db, da * db)


def _build(kind: Kind, table: np.ndarray, saved: dict) -> list[np.ndarray]:
    """The kind's kron blocks, ``[count, d, d]`` (or ``[B, count, d, d]`` per row) per block size."""
    lead = table.shape[:-1]
    theta = table @ kind.dense if kind.dense is not None else (table[..., kind.columns] * kind.coefs).sum(-2)
    phases = np.empty(theta.shape, dtype=kind.terms.dtype)
    np.cos(theta, out=phases.real)
    np.sin(theta, out=phases.imag)
    n_units, n_terms = kind.terms.shape[:2]
    units = (phases.reshape(*lead, n_units, 1, n_terms) @ kind.terms).reshape(*lead, kind.length, -1, 2, 2)
    positions = [units[..., j, :, :, :] for j in range(kind.length)]
    partial = [positions[0]]
    for unit in positions[1:]:
        partial.append(unit @ partial[-1])
    saved.update(lead=lead, phases=phases, positions=positions, partial=partial)
    blocks, start = [], 0
    for size, count in kind.classes:
        blocks.append(_kron(partial[-1][..., start:start + size * count, :, :].reshape(*lead, count, size, 2, 2)))
        start += size * count
    return blocks


def _build_back(kind: Kind, saved: dict, traced: list[np.ndarray]) -> np.ndarray:
    """The table's gradient ``[..., width]`` from ``U^T G`` of each block (``G`` its conjugated gradient; as
    ``_build`` returned the blocks).

    For a kron block ``U`` of unitary factors ``F_q``, the partial trace of ``U^T G`` over all qubits but ``q``
    is ``F_q^T G_q``, so ``G_q = conj(F_q) @ trace``: no factor's gradient needs the others.
    """
    lead = saved["lead"]
    per_class = [(h.reshape(*lead, count, -1) @ trace).reshape(*lead, count * size, 2, 2)
                 for h, trace, (size, count) in zip(traced, kind.traces, kind.classes)]
    partial, positions = saved["partial"], saved["positions"]
    grad = partial[-1].conj() @ (per_class[0] if len(per_class) == 1 else np.concatenate(per_class, -3))
    per_unit = []
    for j in range(kind.length - 1, 0, -1):  # partial[j] = positions[j] @ partial[j - 1]
        per_unit.append(grad @ _swap(partial[j - 1]))
        grad = _swap(positions[j]) @ grad
    per_unit.append(grad)
    grad_units = per_unit[0] if kind.length == 1 else np.stack(per_unit[::-1], -4)
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


def _slots(blocks: list[np.ndarray], per_row: bool) -> list[list[np.ndarray]]:
    """Each class's blocks as a list of views (``[d, d]``, or ``[B, d, d]`` per row): a list is cheaper to index."""
    return [list(b.swapaxes(0, 1)) if per_row else list(b) for b in blocks]


# ----- states as [high, B, low], kept as matrices [high, B * low]: product state, blocks, permutations ------

@functools.lru_cache(maxsize=64)
def _unit(dim: int, dtype: np.dtype) -> np.ndarray:
    """|0> of ``dim`` amplitudes (read only: shared by every step)."""
    unit = np.zeros(dim, dtype=dtype)
    unit[0] = 1
    unit.flags.writeable = False
    return unit


def _first_column(block: np.ndarray | None, dim: int, like: np.ndarray) -> np.ndarray:
    """What a group's block makes of |0>: its first column, or |0> itself where the group has no block."""
    if block is not None:
        return block[..., :, 0]
    return np.broadcast_to(_unit(dim, like.dtype), (*like.shape[:-2], dim))


def _product_state(vectors: tuple[np.ndarray, np.ndarray], n_rows: int, per_row: bool) -> np.ndarray:
    high, low = vectors
    if per_row:
        return (high.T[:, :, None] * low[None]).reshape(high.shape[-1], -1)
    state = high[:, None] * low[None, :]
    return state if n_rows == 1 else np.repeat(state, n_rows, axis=0).reshape(high.shape[-1], -1)


def _product_back(mu: np.ndarray, vectors: tuple[np.ndarray, np.ndarray], n_rows: int,
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


def _gather(psi: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``psi``'s amplitudes at ``index`` (flat positions), shaped as ``index``."""
    return psi.reshape(-1)[index]


def _apply(psi: np.ndarray, block: np.ndarray, high: bool, per_row: bool, shape: tuple[int, int, int]) -> np.ndarray:
    """``block`` on the high or low qubit group of states ``[high, B * low]``."""
    n_high, n_rows, n_low = shape
    if not per_row:
        if high:
            return block @ psi
        if n_rows == 1:  # [high, low] is already the [high * B, low] the block multiplies
            return psi @ block.T
        return (psi.reshape(-1, n_low) @ block.T).reshape(n_high, -1)
    rows = psi.reshape(shape).transpose(1, 0, 2)
    new = block @ rows if high else rows @ _swap(block)
    return new.transpose(1, 0, 2).reshape(n_high, -1)


def _apply_back(mu: np.ndarray, psi: np.ndarray, block: np.ndarray, high: bool, per_row: bool,
                shape: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The VJP of ``_apply`` on conjugated gradients: ``U^T G`` of the block (``G`` its gradient, summed over rows
    when shared) and the input's gradient ``mu_in`` (``U^T G = mu_in psi^T``, in the group's axes)."""
    n_high, n_rows, n_low = shape
    if not per_row:
        if high:
            mu_in = block.T @ mu
            return mu_in @ psi.T, mu_in
        if n_rows == 1:
            mu_in = mu @ block
            return mu_in.T @ psi, mu_in
        mu_in = mu.reshape(-1, n_low) @ block
        return mu_in.T @ psi.reshape(-1, n_low), mu_in.reshape(n_high, -1)
    mu3, psi3 = mu.reshape(shape).transpose(1, 0, 2), psi.reshape(shape).transpose(1, 0, 2)
    mu_in = _swap(block) @ mu3 if high else mu3 @ block
    traced = mu_in @ _swap(psi3) if high else _swap(mu_in) @ psi3
    return traced, mu_in.transpose(1, 0, 2).reshape(n_high, -1)


# ----- readout ---------------------------------------------------------------------------------------

def _read(plan: FastPlan, psi: np.ndarray) -> np.ndarray:
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


def _read_back(plan: FastPlan, psi: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """The conjugated VJP of ``_read``: ``conj(2 sum_k g_k P_k psi)``."""
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


# ----- the whole evolution, forward and back ---------------------------------------------------------

def _forward(plan: FastPlan, n_rows: int, tables: dict[bool, np.ndarray | None]) -> tuple[np.ndarray, dict]:
    """The values ``[B, k]`` and what the backward pass reads."""
    saved = {False: {}, True: {}}
    blocks = {per_row: _slots(_build(kind, tables[per_row], saved[per_row]), per_row) if kind is not None else []
              for per_row, kind in ((False, plan.shared), (True, plan.row))}
    n_low = 1 << plan.n_low
    shape = ((1 << plan.n_qubits) // n_low, n_rows, n_low)
    perms, to_rows, _ = plan.indices(n_rows)
    _, per_row, placed = plan.ops[0]
    found = {high: blocks[per_row][c][i] for c, i, high in placed}
    like = next(iter(found.values()))
    vectors = (_first_column(found.get(True), shape[0], like), _first_column(found.get(False), n_low, like))
    psi = _product_state(vectors, n_rows, per_row)
    states, perm = [], 0
    for op in plan.ops[1:]:
        if op[0] == "perm":
            psi = _gather(psi, perms[perm][0])
            if op[2] is not None:
                psi = (psi.reshape(shape) * op[2].reshape(shape[0], 1, shape[2])).reshape(shape[0], -1)
            perm += 1
            continue
        for c, i, high in op[2]:
            states.append(psi)
            psi = _apply(psi, blocks[op[1]][c][i], high, op[1], shape)
    final = psi.reshape(1, -1) if n_rows == 1 else _gather(psi, to_rows)  # one row: the same order
    memo = dict(shape=shape, vectors=vectors, found=found, saved=saved, blocks=blocks, states=states, final=final)
    return _read(plan, final), memo


def _backward(plan: FastPlan, memo: dict, grad: np.ndarray, want: dict[bool, bool]) -> dict[bool, np.ndarray]:
    """Each wanted kind's table gradient from the values' gradient ``grad [B, k]``."""
    shape, blocks, states = memo["shape"], memo["blocks"], memo["states"]
    perms, _, from_rows = plan.indices(shape[1])
    mu = _read_back(plan, memo["final"], grad)
    mu = mu.reshape(shape[0], -1) if shape[1] == 1 else _gather(mu, from_rows)
    grads = {kind: [[None] * count for _, count in k.classes] if k is not None else []
             for kind, k in ((False, plan.shared), (True, plan.row))}
    earliest = plan.earliest_layer(want[False], want[True])
    perm, state = len(perms), len(states)
    for k in range(len(plan.ops) - 1, 0, -1):
        op = plan.ops[k]
        if op[0] == "perm":
            perm -= 1
            if op[2] is not None:
                mu = (mu.reshape(shape) * op[2].reshape(shape[0], 1, shape[2])).reshape(shape[0], -1)
            mu = _gather(mu, perms[perm][1])
            continue
        for position in range(len(op[2]) - 1, -1, -1):
            c, i, high = op[2][position]
            state -= 1
            grads[op[1]][c][i], mu = _apply_back(mu, states[state], blocks[op[1]][c][i], high, op[1], shape)
        if k <= earliest:
            break
    _, per_row, placed = plan.ops[0]
    if want[per_row]:  # the first blocks made the product state from |0>: G = g e0^T, so U^T G = (U^T g) e0^T
        grad_vectors = dict(zip((True, False), _product_back(mu, memo["vectors"], shape[1], per_row)))
        for c, i, high in placed:
            block = memo["found"][high]
            grads[per_row][c][i] = (_swap(block) @ grad_vectors[high][..., None]) * _unit(block.shape[-1], mu.dtype)
    return {kind: _build_back(k_plan, memo["saved"][kind], [np.stack(g, -3) for g in grads[kind]])
            for kind, k_plan in ((False, plan.shared), (True, plan.row)) if want[kind] and k_plan is not None}


# ----- the autograd node -----------------------------------------------------------------------------

class _Evolve(torch.autograd.Function):
    """The stack's groups (as tensors, for autograd; ``tables`` their values by kind) -> Pauli-string values
    ``[B, k]``; backward walks the plan back and splits each kind's gradient into its groups."""

    @staticmethod
    def forward(ctx: Any, plan: FastPlan, n_rows: int, tables: dict[bool, np.ndarray | None],
                *groups: torch.Tensor) -> torch.Tensor:
        with torch_thread_count():
            values, ctx.memo = _forward(plan, n_rows, tables)
        ctx.plan, ctx.shapes = plan, [g.shape for g in groups]
        return torch.from_numpy(values)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple:
        plan, needs = ctx.plan, ctx.needs_input_grad[3:]
        want = {per_row: kind is not None and any(needs[g] for g in kind.groups)
                for per_row, kind in ((False, plan.shared), (True, plan.row))}
        with torch_thread_count():
            tables = _backward(plan, ctx.memo, grad.detach().resolve_neg().numpy().astype(plan.real, copy=False), want)
        out: list[torch.Tensor | None] = [None] * len(needs)
        for per_row, table in tables.items():
            start = 0
            for g in (plan.row if per_row else plan.shared).groups:
                width = ctx.shapes[g][-1]
                if needs[g]:  # autograd casts it to the group's dtype
                    out[g] = torch.from_numpy(np.ascontiguousarray(table[..., start:start + width])).view(ctx.shapes[g])
                start += width
        return (None, None, None, *out)


# ----- entry -------------------------------------------------------------------------------------------

def _plan(circuit: Circuit, layout: tuple, terms: ObservableTerms, dtype: torch.dtype) -> FastPlan | None:
    """The circuit's fast plan for this stack layout (cached with the engine's programs), or None."""
    def compute() -> FastPlan | None:
        names = [name for group, _ in layout for name in group]
        if sorted(names) != sorted(set(circuit.parameters)) or len(set(names)) != len(names):
            return None  # the general path names what is missing or unknown
        return compile_fast_plan(circuit.n_qubits, PLANS.gate_specs(circuit)[0], layout, terms.strings, dtype)

    return PLANS.derived(circuit, ("fast", layout, terms.strings, dtype), compute)


def _tables(params: ParameterStack, plan: FastPlan, arrays: list[np.ndarray]) -> dict[bool, np.ndarray | None]:
    """Each kind's groups side by side (shared groups of one row read as shared values), finite, else the
    ``InputError`` naming the parameter."""
    tables: dict[bool, np.ndarray | None] = {}
    for per_row, kind in ((False, plan.shared), (True, plan.row)):
        if kind is None:
            tables[per_row] = None
            continue
        values = [arrays[g] if per_row or arrays[g].ndim == 1 else arrays[g].reshape(-1) for g in kind.groups]
        table = np.concatenate(values, -1) if len(values) > 1 else values[0] if values else np.zeros(0, plan.real)
        if not np.isfinite(table.sum()):  # one reduction; a finite overflow only costs the full check
            check_all_finite(dict(params.items()))
        tables[per_row] = table
    return tables


def fast_expval(circuit: Circuit, terms: ObservableTerms, params: object, dtype: torch.dtype,
                device: Any) -> torch.Tensor | None:
    """Observable values ``[B, m]`` by the fast path, or None when this run takes the general path.

    Taken on the CPU when ``params`` is a ``ParameterStack`` of CPU tensors, rows x 2**n is at most
    ``FAST_MAX_AMPLITUDES``, the states a step keeps fit the memory budget, and the circuit has only
    single-qubit gates and constant permutation gates (``compile_fast_plan``).
    """
    if not isinstance(params, ParameterStack) or resolve_device(device).type != "cpu":
        return None
    groups = [values for _, values in params.groups]
    rows = {int(values.shape[0]) for values in groups if values.dim() == 2}
    n_rows = rows.pop() if len(rows) == 1 else 1 if not rows else 0
    if n_rows == 0 or n_rows * 2**circuit.n_qubits > FAST_MAX_AMPLITUDES or any(g.device.type != "cpu" for g in groups):
        return None
    # One row is shared by the batch: every gate is then built, and every block applied, as a shared one.
    layout = tuple((names, values.dim() == 2 and n_rows > 1) for names, values in params.groups)
    plan = _plan(circuit, layout, terms, dtype)
    if plan is None:
        return None
    if not fits_budget(plan.kept_states * n_rows * 2**circuit.n_qubits * plan.dtype.itemsize, _CPU):
        return None  # the general path runs it in chunks, or says what does not fit
    real = torch.float64 if plan.dtype == np.complex128 else torch.float32
    arrays = [(g if g.dtype == real else g.to(real)).detach().numpy() for g in groups]
    values = _Evolve.apply(plan, n_rows, _tables(params, plan, arrays), *groups)
    return terms.combine(values)
