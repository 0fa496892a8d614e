"""The adjoint engine's gate sweep written out as straight-line Python, once per plan.

At B = 1 a gate costs microseconds of numpy work and as much again of Python around it: a helper call to
see the state as the gate does, a branch on the gate's kind, a helper for its product, another to undo the
view. Here each plan's ``forward`` (the state through every gate, each gate's input kept) and ``backward``
(the adjoint sweep) are written with one line per numpy operation, every shape and branch chosen while writing
(``qvec.codegen``). A gate sees the state ``[c, .., c, R]`` as ``[L, K, S, R]`` (modes before, its own,
after; rows last), after a transpose when its modes are not neighbours in order.

The backward carries ``mu``, the conjugate of the state's gradient ``g``: pulled back as ``G^T mu`` and each gate's
gradient kept as ``sum mu x^T`` (the conjugates of ``G^dagger g`` and ``sum g x^dagger``), so that neither the gates
nor the kept inputs are conjugated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from qvec.codegen import compiled

if TYPE_CHECKING:
    from .adjoint import Gate, Plan

__all__ = ["Sweep", "sweep_functions"]


@dataclass(frozen=True)
class Sweep:
    """``forward(stacks, state) -> (state, inputs)`` and ``backward(stacks, grads, inputs, mu)`` (fills the gates'
    conjugated gradients per kind in ``grads``) of one plan, and their source."""

    forward: Callable
    backward: Callable
    source: str


def sweep_functions(plan: Plan) -> Sweep:
    """The plan's sweep, written on first use and kept with the plan."""
    if "sweep" not in plan.code:
        source = "\n".join(_forward(plan) + [""] + _backward(plan))
        namespace = compiled(source, "photonic sweep", {"np": np})
        plan.code["sweep"] = Sweep(namespace["forward"], namespace["backward"], source)
    return plan.code["sweep"]


def _rows_after(gate: Gate) -> int:
    """R of the state after ``gate``: its rows when it reads per-row values, else its input's."""
    return max(gate.rows, gate.batch_in)


def _operator(prefix: str, gate: Gate) -> str:
    """The gate's matrix or phases: one entry of its kind's stack (shared) or its rows' slice."""
    stack = f"{prefix}_{gate.name}"
    return f"{stack}[{gate.start}]" if gate.rows == 1 else f"{stack}[{gate.start}:{gate.start + gate.rows}]"


def _seen(name: str, gate: Gate, rows: int) -> str:
    """``name`` ``[c, .., c, R]`` as the gate sees it, ``[L, K, S, R]``."""
    moved = name if gate.moves is None else f"{name}.transpose({gate.moves})"
    return f"{moved}.reshape({(*gate.view, rows)})"


def _unseen(expression: str, gate: Gate, plan: Plan, rows: int) -> str:
    """Undo ``_seen`` on a result ``[L, K, S, R]``."""
    state = f"({expression}).reshape({(plan.cutoff,) * plan.n_modes + (rows,)})"
    return state if gate.moves is None else f"{state}.transpose({tuple(int(i) for i in np.argsort(gate.moves))})"


# ----- forward ------------------------------------------------------------------------------------------

def _apply(gate: Gate, x: str) -> str:
    """The gate on ``x`` ``[L, K, S, R]``: phases along K, or one matrix product (one per row for a per-row gate)."""
    op = _operator("S", gate)
    left, size, right = gate.view
    if gate.diagonal:
        return f"{x} * {op}[:, None, None]" if gate.rows == 1 else f"{x} * {op}.T[:, None, :]"
    if gate.fresh is not None:  # x holds only level ``fresh`` on the gate's mode: one column of each row's matrix
        return f"{op}[:, :, {gate.fresh}].T[None, :, None, :] * {x}[:, {gate.fresh}:{gate.fresh + 1}]"
    if gate.rows > 1:
        shape = (left, size, right, gate.rows)
        return f'np.einsum("rij,ajsr->aisr", {op}, np.broadcast_to({x}, {shape}))'
    flat = f"{x}.reshape({size}, -1)" if left == 1 else f"{x}.reshape({left}, {size}, -1)"
    return f"np.matmul({op}, {flat})"


def _forward(plan: Plan) -> list[str]:
    lines = ["def forward(stacks, s):"] + [f"    S_{name} = stacks[{name!r}]" for name in plan.kinds]
    for i, gate in enumerate(plan.gates):
        rows = _rows_after(gate)
        lines += [f"    x{i} = {_seen('s', gate, gate.batch_in)}", f"    s = {_unseen(_apply(gate, f'x{i}'), gate, plan, rows)}"]
    inputs = "".join(f"x{i}, " for i in range(len(plan.gates)))
    return lines + [f"    return s, ({inputs})"]


# ----- backward -----------------------------------------------------------------------------------------

def _gate_grad(gate: Gate, mu: str, x: str, rows: int) -> list[str]:
    """Lines writing ``sum mu x^T`` (the conjugate of ``sum g x^dagger``) over the gate's other axes (and the rows,
    for a shared gate) into its kind's gradient stack; ``x`` has the gate's input rows, ``mu`` ``rows``."""
    target = _operator("G", gate)
    left, size, right = gate.view
    if gate.diagonal:  # products broadcast over rows the input did not have
        total = f"({mu} * {x}).sum((0, 2, 3))" if gate.rows == 1 else f"({mu} * {x}).sum((0, 2)).T"
        return [f"    {target} = {total}"]
    if gate.fresh is not None:
        f = gate.fresh
        return [f"    {target} = 0", f"    {target}[:, :, {f}] = ({mu} * {x}[:, {f}:{f + 1}]).sum((0, 2)).T"]
    seen = x if rows == gate.batch_in else f"np.broadcast_to({x}, {(left, size, right, rows)})"
    if gate.rows > 1:
        return [f'    {target} = np.einsum("aisr,ajsr->rij", {mu}, {seen})']
    if left == 1:  # [K, S R] each: one product (an outer one for a single column)
        mu2, x2 = f"{mu}.reshape({size}, -1)", f"{seen}.reshape({size}, -1).T"
        return [f"    {target} = {mu2} * {x2}" if right * rows == 1 else f"    {target} = np.matmul({mu2}, {x2})"]
    if right * rows == 1:  # [L, K] each
        return [f"    {target} = np.matmul({mu}.reshape({left}, {size}).T, {seen}.reshape({left}, {size}))"]
    return [f"    {target} = np.matmul({mu}.reshape({left}, {size}, -1), "
            f"{seen}.reshape({left}, {size}, -1).swapaxes(1, 2)).sum(0)"]


def _pull(gate: Gate, mu: str, rows: int) -> list[str]:
    """Lines setting ``p`` to ``G^T mu`` (the conjugate of ``G^dagger g``), summed over rows the input did not have."""
    op = _operator("S", gate)
    left, size, right = gate.view
    if gate.diagonal:
        lines = [f"    p = {mu} * {op}[:, None, None]" if gate.rows == 1 else f"    p = {mu} * {op}.T[:, None, :]"]
    elif gate.fresh is not None:  # the input's other levels were zero: their gradient is never read
        f = gate.fresh
        lines = [f"    p = np.zeros_like({mu})", f"    p[:, {f}] = ({op}[:, :, {f}].T[None, :, None, :] * {mu}).sum(1)"]
    elif gate.rows > 1:
        lines = [f'    p = np.einsum("rji,ajsr->aisr", {op}, {mu})']
    else:
        flat = f"{mu}.reshape({size}, -1)" if left == 1 else f"{mu}.reshape({left}, {size}, -1)"
        lines = [f"    p = np.matmul({op}.T, {flat})"]
    if gate.batch_in == 1 and rows > 1:
        lines.append(f"    p = p.reshape({(left, size, right, rows)}).sum(-1, keepdims=True)")
    return lines


def _backward(plan: Plan) -> list[str]:
    used = dict.fromkeys(gate.name for gate in plan.gates)  # kinds folded away whole have no gate here
    lines = ["def backward(stacks, grads, inputs, mu):"]
    lines += [f"    S_{name} = stacks[{name!r}]" for name in used]
    lines += [f"    G_{name} = grads[{name!r}]" for name in used]
    if plan.gates:
        lines.append(f"    {''.join(f'x{i}, ' for i in range(len(plan.gates)))}= inputs")
    for i in range(len(plan.gates) - 1, -1, -1):
        gate = plan.gates[i]
        rows = _rows_after(gate)
        lines.append(f"    mu{i} = {_seen('mu', gate, rows)}")
        lines += _gate_grad(gate, f"mu{i}", f"x{i}", rows)
        if i == 0:  # the first gate's input is the constant start state: nothing to pull back
            break
        lines += _pull(gate, f"mu{i}", rows)
        lines.append(f"    mu = {_unseen('p', gate, plan, gate.batch_in)}")
    return lines + ["    return grads"]
