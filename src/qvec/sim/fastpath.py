"""The small-batch fast path: a compiled plan run as one autograd node with a hand-written backward.

At small batches a step's cost is the number of torch calls, not arithmetic. Here one
``torch.autograd.Function`` takes the angle tables and returns the Pauli strings' values. Forward:
every gate matrix of a kind (shared or per row) from one gather, one ``exp`` and one batched product,
runs fused by a few batched 2x2 products, kron blocks by broadcasting, then the states: a product
state, each block one ``mm`` and each merged permutation one gather. States are ``[high, B, low]`` (the
two qubit groups around the batch) kept as matrices ``[high, B * low]``, so that a shared block on either
group is a plain ``mm`` with no copy (and, for one row, with no view: each torch call costs microseconds).
Backward walks the same steps back (the exact VJP of each, written out beside it), carrying the conjugate
of the gradient so that no step needs a conjugated copy.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from qvec.circuit import Circuit
from qvec.circuit.observables import ObservableTerms
from qvec.circuit.parameters import ParameterStack, check_all_finite
from qvec.tensor_cache import tensor_cache

from .fastplan import FastPlan, Kind, compile_fast_plan
from .memory import fits_budget, resolve_device

__all__ = ["FAST_MAX_AMPLITUDES", "fast_expval"]

# The fast path runs a batch when rows x 2**n is at most this (and the states it keeps fit the memory
# budget); it was measured faster than the general path up to here (docs/performance.md, "Small batches").
FAST_MAX_AMPLITUDES = 2**20
# Gathers of up to this many amplitudes use torch.take (one call; at 256 faster than index_select and two
# views, at 4,096 twice as slow as index_select alone).
TAKE_MAX_AMPLITUDES = 1024


# ----- gate matrices, fused runs and kron blocks of one kind ------------------------------------------

def _build(kind: Kind, table: torch.Tensor, saved: dict) -> list[torch.Tensor]:
    """The kind's kron blocks, ``[count, d, d]`` (or ``[B, count, d, d]`` per row) per block size."""
    lead = tuple(table.shape[:-1])
    if kind.width:
        angles = table.index_select(-1, kind.index).unsqueeze(-1)
        turns = angles * kind.coef if kind.offset is None else torch.addcmul(kind.offset, angles, kind.coef)
    else:
        turns = kind.offset if kind.offset is not None else torch.zeros_like(kind.coef)
    phases = torch.polar(kind.ones.expand_as(turns) if lead else kind.ones, turns)
    if lead:
        atoms = torch.matmul(phases.unsqueeze(-2), kind.projectors)
    else:
        atoms = torch.bmm(phases.unsqueeze(-2), kind.projectors)
    atoms = atoms.view(*lead, kind.length, -1, 2, 2)
    positions = atoms.unbind(-4)
    partial = [positions[0]]
    product = torch.matmul if lead else torch.bmm
    for atom in positions[1:]:
        partial.append(product(atom, partial[-1]))
    saved.update(lead=lead, phases=phases, positions=positions, partial=partial, classes=[])
    blocks, start = [], 0
    for size, count in kind.classes:
        factors = partial[-1].narrow(-3, start, size * count).view(*lead, count, size, 2, 2).unbind(-3)
        prefixes = [factors[0]]
        for i in range(1, size):
            width = 1 << i  # of prefixes[-1], the kron of factors 0 .. i - 1
            placed = prefixes[-1].view(*lead, count, width, 1, width, 1)
            prefixes.append((placed * factors[i].view(*lead, count, 1, 2, 1, 2)).view(*lead, count, 2 * width, 2 * width))
        saved["classes"].append((factors, prefixes))
        blocks.append(prefixes[-1])
        start += size * count
    return blocks


@tensor_cache(maxsize=64)
def _pair_order(half: int, device: torch.device) -> torch.Tensor:
    """The gather that lays a ``[half * 2, half * 2]`` block out as ``[half, half, 2, 2]`` (a permuting copy of
    complex numbers costs several times this gather)."""
    return torch.arange(4 * half * half, device=device).view(half, 2, half, 2).transpose(1, 2).reshape(-1)


@tensor_cache(maxsize=64)
def _unit(dim: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """|0> of ``dim`` amplitudes (read only: shared by every step)."""
    unit = torch.zeros(dim, dtype=dtype, device=device)
    unit[0] = 1
    return unit


def _build_back(kind: Kind, saved: dict, grads: list[torch.Tensor], shape: torch.Size, dtype: torch.dtype,
                device: torch.device) -> torch.Tensor:
    """The table's gradient from the conjugated gradients of the blocks (``grads``, as ``_build`` returned them)."""
    lead, fused = saved["lead"], []
    for (factors, prefixes), grad, (size, count) in zip(saved["classes"], grads, kind.classes):
        n, per_factor = grad.numel() >> (2 * size), []  # n: the blocks, rows and count flattened
        for i in range(size - 1, 0, -1):  # prefixes[i] = prefixes[i - 1] (x) factors[i]: bmm on [n, half**2, 4]
            half = 1 << i
            split = grad.reshape(n, -1).index_select(1, _pair_order(half, grad.device)).view(n, half * half, 4)
            per_factor.append(torch.bmm(prefixes[i - 1].reshape(n, 1, half * half), split))
            grad = torch.bmm(split, factors[i].reshape(n, 4, 1))
        per_factor.append(grad.view(n, 1, 4))
        fused.append(torch.cat(per_factor[::-1], 1).view(*lead, count * size, 2, 2))
    grad = fused[0] if len(fused) == 1 else torch.cat(fused, -3)
    positions, partial = saved["positions"], saved["partial"]
    per_atom = []
    product = torch.matmul if lead else torch.bmm
    for j in range(kind.length - 1, 0, -1):  # partial[j] = positions[j] @ partial[j - 1]
        per_atom.append(product(grad, partial[j - 1].mT))
        grad = product(positions[j].mT, grad)
    per_atom.append(grad)
    grad_atoms = torch.stack(per_atom[::-1], -4).view(*lead, -1, 4)
    slopes = product(saved["phases"].unsqueeze(-2), kind.derivative).view(*lead, -1, 4)
    grad_angles = (slopes * grad_atoms).sum(-1).real
    return torch.zeros(shape, dtype=dtype, device=device).index_add_(-1, kind.index, grad_angles)


# ----- states as [high, B, low], kept as matrices [high, B * low]: product state, blocks, permutations ------

def _first_column(block: torch.Tensor | None, dim: int, like: torch.Tensor) -> torch.Tensor:
    """What a group's block makes of |0>: its first column, or |0> itself where the group has no block."""
    if block is not None:
        return block[..., :, 0]
    return _unit(dim, like.dtype, like.device).expand(*like.shape[:-2], dim)


def _product_state(vectors: tuple[torch.Tensor, torch.Tensor], n_rows: int, per_row: bool) -> torch.Tensor:
    high, low = vectors
    if per_row:
        return (high.mT.unsqueeze(-1) * low.unsqueeze(0)).contiguous().view(high.shape[-1], -1)
    state = high[:, None] * low[None, :]
    return state if n_rows == 1 else state.unsqueeze(1).expand(-1, n_rows, -1).reshape(high.shape[-1], -1)


def _product_back(mu: torch.Tensor, vectors: tuple[torch.Tensor, torch.Tensor], n_rows: int,
                  per_row: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Conjugated gradients of the two vectors of a product state, from the state's ``mu``."""
    high, low = vectors
    if n_rows == 1 and not per_row:
        return mu @ low, high @ mu
    mu3 = mu.view(high.shape[-1], n_rows, low.shape[-1])
    if per_row:
        return (mu3 * low.unsqueeze(0)).sum(-1).mT, (mu3 * high.mT.unsqueeze(-1)).sum(0)
    summed = mu3.sum(1)
    return summed @ low, high @ summed


def _gather(psi: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``psi``'s amplitudes at ``index`` (flat positions), shaped as ``index``: one ``take`` for a small state; past
    ``TAKE_MAX_AMPLITUDES`` a flat ``index_select`` and two views (``take`` was measured up to 4x slower there)."""
    if index.numel() <= TAKE_MAX_AMPLITUDES:
        return torch.take(psi, index)
    return psi.view(-1).index_select(0, index.view(-1)).view(index.shape)


def _apply(psi: torch.Tensor, block: torch.Tensor, block_t: torch.Tensor, high: bool, per_row: bool,
           shape: tuple[int, int, int]) -> torch.Tensor:
    """``block`` (``block_t`` its transpose) on the high or low qubit group of states ``[high, B * low]``."""
    n_high, n_rows, n_low = shape
    if not per_row:
        if high:
            return torch.mm(block, psi)
        if n_rows == 1:  # [high, low] is already the [high * B, low] the block multiplies
            return torch.mm(psi, block_t)
        return torch.mm(psi.view(-1, n_low), block_t).view(n_high, -1)
    rows = psi.view(shape).transpose(0, 1)
    new = block @ rows if high else rows @ block_t
    return new.transpose(0, 1).reshape(n_high, -1)


def _apply_back(mu: torch.Tensor, psi: torch.Tensor, block: torch.Tensor, block_t: torch.Tensor, high: bool,
                per_row: bool, shape: tuple[int, int, int],
                want_state: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The VJP of ``_apply`` on conjugated gradients: the block's (summed over rows when shared) and the input's."""
    n_high, n_rows, n_low = shape
    if not per_row:
        if high:
            return torch.mm(mu, psi.mT), torch.mm(block_t, mu) if want_state else None
        if n_rows == 1:
            return torch.mm(mu.mT, psi), torch.mm(mu, block) if want_state else None
        mu2, psi2 = mu.view(-1, n_low), psi.view(-1, n_low)
        return torch.mm(mu2.mT, psi2), torch.mm(mu2, block).view(n_high, -1) if want_state else None
    mu3, psi3 = mu.view(shape).transpose(0, 1), psi.view(shape).transpose(0, 1)
    grad = mu3 @ psi3.mT if high else mu3.mT @ psi3
    if not want_state:
        return grad, None
    back = block_t @ mu3 if high else mu3 @ block
    return grad, back.transpose(0, 1).reshape(n_high, -1)


# ----- readout ---------------------------------------------------------------------------------------

def _read(plan: FastPlan, psi: torch.Tensor) -> torch.Tensor:
    """The Pauli strings' expectation values ``[B, k]`` of row states ``[B, 2**n]``."""
    columns = []
    for readout in plan.readouts:
        if readout.flip is None:  # |psi|^2 @ table, from the interleaved real and imaginary parts
            columns.append(torch.view_as_real(psi).flatten(-2).square() @ readout.table)
        else:
            columns.append((psi.index_select(1, readout.flip).conj() * psi @ readout.table).real)
    if len(columns) == 1:
        return columns[0]
    order = [p for readout in plan.readouts for p in readout.positions]
    values = torch.cat(columns, dim=1)
    return values.index_select(1, torch.tensor(sorted(range(len(order)), key=order.__getitem__), device=psi.device))


def _read_back(plan: FastPlan, psi: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """The conjugated VJP of ``_read``: ``conj(2 sum_k g_k P_k psi)``."""
    conj = psi.conj()
    mu = None
    for readout in plan.readouts:
        g = grad if len(plan.readouts) == 1 else grad[:, list(readout.positions)]
        if readout.flip is None:
            term = conj * (g @ readout.back)
        else:
            term = ((g.to(psi.dtype) @ readout.back) * conj).index_select(1, readout.flip)
        mu = term if mu is None else mu + term
    return mu


# ----- the autograd node -----------------------------------------------------------------------------

class _Evolve(torch.autograd.Function):
    """Angle tables (shared, per row) -> Pauli-string values ``[B, k]``; backward walks the plan back."""

    @staticmethod
    def forward(ctx: Any, plan: FastPlan, n_rows: int, shared_table: torch.Tensor | None,
                row_table: torch.Tensor | None) -> torch.Tensor:
        saved = {False: {}, True: {}}
        blocks = {False: _build(plan.shared, shared_table, saved[False]) if plan.shared else [],
                  True: _build(plan.row, row_table, saved[True]) if plan.row else []}
        n_low = 1 << plan.n_low
        shape = ((1 << plan.n_qubits) // n_low, n_rows, n_low)
        perms, to_rows, _ = plan.indices(n_rows)
        blocks_t = {kind: [b.mT.unbind(-3) for b in kind_blocks] for kind, kind_blocks in blocks.items()}
        blocks = {kind: [b.unbind(-3) for b in kind_blocks] for kind, kind_blocks in blocks.items()}
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
                    psi = (psi.view(shape) * op[2].view(shape[0], 1, shape[2])).view(shape[0], -1)
                perm += 1
                continue
            for c, i, high in op[2]:
                states.append(psi)
                psi = _apply(psi, blocks[op[1]][c][i], blocks_t[op[1]][c][i], high, op[1], shape)
        final = psi.view(1, -1) if n_rows == 1 else _gather(psi, to_rows)  # one row: the same order
        ctx.plan, ctx.shape, ctx.vectors, ctx.found = plan, shape, vectors, found
        ctx.saved, ctx.blocks, ctx.blocks_t, ctx.states, ctx.final = saved, blocks, blocks_t, states, final
        ctx.tables = {kind: None if t is None else (t.shape, t.dtype, t.device)
                      for kind, t in ((False, shared_table), (True, row_table))}
        return _read(plan, final)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple:
        plan, shape, blocks, blocks_t = ctx.plan, ctx.shape, ctx.blocks, ctx.blocks_t
        want = {False: ctx.needs_input_grad[2], True: ctx.needs_input_grad[3]}
        perms, _, from_rows = plan.indices(shape[1])
        mu = _read_back(plan, ctx.final, grad)
        mu = mu.view(shape[0], -1) if shape[1] == 1 else _gather(mu, from_rows)
        grads = {kind: [[None] * count for _, count in k.classes] if k is not None else []
                 for kind, k in ((False, plan.shared), (True, plan.row))}
        earliest = min((k for k, op in enumerate(plan.ops) if op[0] == "layer" and want[op[1]]), default=0)
        perm, state = len(perms), len(ctx.states)
        for k in range(len(plan.ops) - 1, 0, -1):
            op = plan.ops[k]
            if op[0] == "perm":
                perm -= 1
                if op[2] is not None:
                    mu = (mu.view(shape) * op[2].view(shape[0], 1, shape[2])).view(shape[0], -1)
                mu = _gather(mu, perms[perm][1])
                continue
            for position in range(len(op[2]) - 1, -1, -1):
                c, i, high = op[2][position]
                state -= 1
                grads[op[1]][c][i], mu = _apply_back(mu, ctx.states[state], blocks[op[1]][c][i],
                                                     blocks_t[op[1]][c][i], high, op[1], shape,
                                                     k > earliest or position > 0)
            if k <= earliest:
                break
        _, per_row, placed = plan.ops[0]
        if want[per_row]:
            grad_vectors = dict(zip((True, False), _product_back(mu, ctx.vectors, shape[1], per_row)))
            for c, i, high in placed:
                unit = _unit(ctx.found[high].shape[-1], mu.dtype, mu.device)
                grads[per_row][c][i] = grad_vectors[high].unsqueeze(-1) * unit
        out = []
        for kind, name in ((False, "shared"), (True, "row")):
            k_plan = getattr(plan, name)
            if not want[kind] or k_plan is None:
                out.append(None)
                continue
            stacked = [torch.stack(g, -3) for g in grads[kind]]
            out.append(_build_back(k_plan, ctx.saved[kind], stacked, *ctx.tables[kind]))
        return (None, None, *out)


# ----- entry -------------------------------------------------------------------------------------------

def _plan(circuit: Circuit, layout: tuple, terms: ObservableTerms, dtype: torch.dtype,
          device: torch.device) -> FastPlan | None:
    """The circuit's fast plan for this stack layout (cached with the engine's programs), or None."""
    from .simulate import PLANS

    def compute() -> FastPlan | None:
        names = [name for group, _ in layout for name in group]
        if sorted(names) != sorted(set(circuit.parameters)) or len(set(names)) != len(names):
            return None  # the general path names what is missing or unknown
        return compile_fast_plan(circuit.n_qubits, PLANS.gate_specs(circuit)[0], layout, terms.strings, dtype, device)

    return PLANS.derived(circuit, ("fast", layout, terms.strings, dtype, device), compute)


def _table(params: ParameterStack, plan: FastPlan, kind: Kind | None, real: torch.dtype,
           device: torch.device) -> torch.Tensor | None:
    """The kind's stacked groups side by side, finite (else the ``InputError`` naming the parameter)."""
    if kind is None:
        return None
    values = [params.groups[g][1].to(device=device, dtype=real) for g in kind.groups]
    if kind is plan.shared:  # a group of one row read as shared values
        values = [v.reshape(-1) if v.dim() == 2 else v for v in values]
    if not values:
        return torch.zeros(0, dtype=real, device=device)
    table = values[0] if len(values) == 1 else torch.cat(values, -1)
    if not math.isfinite(table.detach().sum()):  # one reduction; a finite overflow only costs the full check
        check_all_finite(dict(params.items()))
    return table


def fast_expval(circuit: Circuit, terms: ObservableTerms, params: object, dtype: torch.dtype,
                device: Any) -> torch.Tensor | None:
    """Observable values ``[B, m]`` by the fast path, or None when this run takes the general path.

    Taken when ``params`` is a ``ParameterStack``, rows x 2**n is at most ``FAST_MAX_AMPLITUDES``, the states
    a step keeps fit the memory budget, and the circuit has only single-qubit gates and constant permutation
    gates (``compile_fast_plan``).
    """
    if not isinstance(params, ParameterStack):
        return None
    rows = {int(values.shape[0]) for _, values in params.groups if values.dim() == 2}
    n_rows = rows.pop() if len(rows) == 1 else 1 if not rows else 0
    if n_rows == 0 or n_rows * 2**circuit.n_qubits > FAST_MAX_AMPLITUDES:
        return None
    device = resolve_device(device)
    # One row is shared by the batch: every gate is then built, and every block applied, as a shared one.
    layout = tuple((names, values.dim() == 2 and n_rows > 1) for names, values in params.groups)
    plan = _plan(circuit, layout, terms, dtype, device)
    if plan is None:
        return None
    real = torch.float64 if dtype == torch.complex128 else torch.float32
    n_states = sum(len(op[2]) for op in plan.ops if op[0] == "layer") + 4
    if not fits_budget(n_states * n_rows * 2**circuit.n_qubits * plan.dtype.itemsize, device):
        return None  # the general path runs it in chunks, or says what does not fit
    values = _Evolve.apply(plan, n_rows, _table(params, plan, plan.shared, real, device),
                           _table(params, plan, plan.row, real, device))
    return terms.combine(values)
