"""A fast plan's step written out as straight-line Python, so that nothing is interpreted at run time.

At small batches a step costs its number of Python-level operations. Walking the plan op by op (a loop,
a branch on each op's kind and group, a helper call per block) took about as long as the numpy work
itself, so each plan is written once as the source of a ``forward`` and a ``backward`` function: one line
per numpy operation, every choice made while writing (docs/performance.md, "Small batches"). The
functions are kept with the plan per (one row or many, the kinds whose gradient is wanted); ``Step.source``
shows the code, and tracebacks show its lines.

The state is a matrix ``[high, B * low]`` (``shape = (high, B, low)``): a shared block multiplies it from
the left (high group) or the right (low group); a per-row block multiplies ``[B, high, low]``. The backward
pass carries the conjugated gradient ``mu`` and, for each block, ``U^T G = mu_in psi^T`` (``traced``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from qvec.codegen import compiled

from . import fastops
from .fastplan import FastPlan

__all__ = ["Step", "step_functions"]


@dataclass(frozen=True)
class Step:
    """``forward(tables, shape, perms, to_rows) -> (values, memo)`` and ``backward(memo, grad, shape, perms,
    from_rows) -> {per_row: table gradient}`` of one plan, and their source."""

    forward: Callable
    backward: Callable
    source: str


def step_functions(plan: FastPlan, one_row: bool, needs: tuple[bool, ...]) -> Step:
    """The plan's step for a batch of one row (``one_row``) or more, with the gradients of the kinds that hold
    a group in ``needs`` (one flag per stack group); written on first use, then kept with the plan."""
    key = (one_row, needs)
    if key not in plan.steps:
        want = tuple(kind is not None and any(needs[g] for g in kind.groups) for kind in (plan.shared, plan.row))
        plan.steps[key] = _compile(plan, "\n".join(_forward(plan, one_row) + [""] + _backward(plan, one_row, want)))
    return plan.steps[key]


def _compile(plan: FastPlan, source: str) -> Step:
    n_low = 1 << plan.n_low
    n_high = (1 << plan.n_qubits) // n_low
    phases = [None if op[2] is None else op[2].reshape(n_high, 1, n_low) for op in plan.ops if op[0] == "perm"]
    namespace = {"np": np, "plan": plan, "K": plan.shared, "R": plan.row, "PH": phases, "nh": n_high, "nl": n_low,
                 "real": plan.real, **{name: getattr(fastops, name) for name in fastops.__all__}}
    compiled(source, "fast step", namespace)
    return Step(namespace["forward"], namespace["backward"], source)


def _kinds(plan: FastPlan) -> list[tuple[bool, str]]:
    """The plan's kinds as (per_row, the name their numbers have in the written code)."""
    return [(per_row, name) for per_row, name, kind in ((False, "K", plan.shared), (True, "R", plan.row))
            if kind is not None]


def _block(per_row: bool, c: int, i: int) -> str:
    """Block ``i`` of class ``c``: ``[d, d]`` shared, ``[B, d, d]`` per row (a view either way)."""
    return f"b_R[{c}][:, {i}]" if per_row else f"b_K[{c}][{i}]"


def _traced(per_row: bool, c: int, i: int) -> str:
    """Where the backward keeps ``U^T G`` of block ``i`` of class ``c``."""
    return f"h_{'R' if per_row else 'K'}[{c}][{i}]"


def _n_states(plan: FastPlan) -> int:
    """The states the forward keeps: one before each block after the product state."""
    return sum(len(op[2]) for op in plan.ops[1:] if op[0] == "layer")


def _memo(plan: FastPlan) -> str:
    names = [f"{part}_{name}" for _, name in _kinds(plan) for part in ("saved", "b")]
    return ", ".join(names + ["vectors", "final"] + [f"s{k}" for k in range(_n_states(plan))]) + ","


# ----- forward ------------------------------------------------------------------------------------------

def _apply(per_row: bool, high: bool, one_row: bool, block: str) -> str:
    """``psi`` after ``block`` on the high or low qubit group."""
    if per_row:
        if high:
            return f"psi = ({block} @ psi.reshape(shape).transpose(1, 0, 2)).transpose(1, 0, 2).reshape(nh, -1)"
        return f"psi = (psi.reshape(shape).transpose(1, 0, 2) @ swap({block})).transpose(1, 0, 2).reshape(nh, -1)"
    if high:
        return f"psi = {block} @ psi"
    if one_row:  # [high, low] is already the [high * B, low] the block multiplies
        return f"psi = psi @ {block}.T"
    return f"psi = (psi.reshape(-1, nl) @ {block}.T).reshape(nh, -1)"


def _forward(plan: FastPlan, one_row: bool) -> list[str]:
    lines = ["def forward(tables, shape, perms, to_rows):"]
    for per_row, name in _kinds(plan):
        lines += [f"    saved_{name} = {{}}", f"    b_{name} = build({name}, tables[{per_row}], saved_{name})"]
    _, per_row, placed = plan.ops[0]
    found = {high: _block(per_row, c, i) for c, i, high in placed}
    like = next(iter(found.values()))
    lines += [f"    vectors = (first_column({found.get(True)}, nh, {like}), first_column({found.get(False)}, nl, "
              f"{like}))", f"    psi = product_state(vectors, shape[1], {per_row})"]
    state, perm = 0, 0
    for op in plan.ops[1:]:
        if op[0] == "perm":
            lines.append(f"    psi = psi.reshape(-1)[perms[{perm}][0]]")
            if op[2] is not None:
                lines.append(f"    psi = (psi.reshape(shape) * PH[{perm}]).reshape(nh, -1)")
            perm += 1
            continue
        for c, i, high in op[2]:
            lines += [f"    s{state} = psi", "    " + _apply(op[1], high, one_row, _block(op[1], c, i))]
            state += 1
    lines.append("    final = psi.reshape(1, -1)" if one_row else "    final = psi.reshape(-1)[to_rows]")
    values = "np.square(final.view(real)) @ plan.readouts[0].table" if _plain_readout(plan) else "read(plan, final)"
    return lines + [f"    return {values}, ({_memo(plan)})"]


def _plain_readout(plan: FastPlan) -> bool:
    """Whether every string is diagonal (Z and I only): then values are ``|psi|^2 @ table``, written inline."""
    return len(plan.readouts) == 1 and plan.readouts[0].flip is None


# ----- backward -----------------------------------------------------------------------------------------

def _apply_back(per_row: bool, high: bool, one_row: bool, block: str, state: str, traced: str | None) -> list[str]:
    """The VJP of ``_apply``: ``mu`` before the block and, where wanted, ``traced = U^T G`` (summed over rows for a
    shared block), from ``mu`` after it and the ``state`` it was applied to."""
    if per_row:
        rows = "mu.reshape(shape).transpose(1, 0, 2)"
        first = f"mu = swap({block}) @ {rows}" if high else f"mu = {rows} @ {block}"
        trace = (f"mu @ swap({state}.reshape(shape).transpose(1, 0, 2))" if high
                 else f"swap(mu) @ {state}.reshape(shape).transpose(1, 0, 2)")
        after = "mu = mu.transpose(1, 0, 2).reshape(nh, -1)"
    elif high:
        first, trace, after = f"mu = {block}.T @ mu", f"mu @ {state}.T", None
    elif one_row:
        first, trace, after = f"mu = mu @ {block}", f"mu.T @ {state}", None
    else:
        first, trace = f"mu = mu.reshape(-1, nl) @ {block}", f"mu.T @ {state}.reshape(-1, nl)"
        after = "mu = mu.reshape(nh, -1)"
    lines = [first] + ([f"{traced} = {trace}"] if traced else []) + ([after] if after else [])
    return ["    " + line for line in lines]


def _backward(plan: FastPlan, one_row: bool, want: tuple[bool, bool]) -> list[str]:
    lines = ["def backward(memo, grad, shape, perms, from_rows):", f"    {_memo(plan)} = memo",
             "    mu = final.conj() * (grad @ plan.readouts[0].back)" if _plain_readout(plan)
             else "    mu = read_back(plan, final, grad)",
             "    mu = mu.reshape(nh, -1)" if one_row else "    mu = mu.reshape(-1)[from_rows]"]
    kinds = [(per_row, name) for per_row, name in _kinds(plan) if want[per_row]]
    for per_row, name in kinds:
        counts = [count for _, count in (plan.row if per_row else plan.shared).classes]
        lines.append(f"    h_{name} = [{', '.join(f'[None] * {count}' for count in counts)}]")
    state, perm = _n_states(plan), sum(op[0] == "perm" for op in plan.ops)
    for k in range(len(plan.ops) - 1, plan.earliest_layer(*want) - 1, -1):
        op = plan.ops[k]
        if k == 0:  # the first blocks made the product state from |0>: G = g e0^T, so U^T G = (U^T g) e0^T
            lines.append(f"    g_high, g_low = product_back(mu, vectors, shape[1], {op[1]})")
            for c, i, high in op[2]:
                block, vector = _block(op[1], c, i), "g_high" if high else "g_low"
                lines.append(f"    {_traced(op[1], c, i)} = (swap({block}) @ {vector}[..., None]) * "
                             f"unit({block}.shape[-1], mu.dtype)")
        elif op[0] == "perm":
            perm -= 1
            if op[2] is not None:
                lines.append(f"    mu = (mu.reshape(shape) * PH[{perm}]).reshape(nh, -1)")
            lines.append(f"    mu = mu.reshape(-1)[perms[{perm}][1]]")
        else:
            for c, i, high in reversed(op[2]):
                state -= 1
                traced = _traced(op[1], c, i) if want[op[1]] else None
                lines += _apply_back(op[1], high, one_row, _block(op[1], c, i), f"s{state}", traced)
    grads = ", ".join(f"{per_row}: build_back({name}, saved_{name}, [np.stack(h, -3) for h in h_{name}])"
                      for per_row, name in kinds)
    return lines + [f"    return {{{grads}}}"]
