"""The small-batch fast path: a compiled plan run in numpy as one autograd node with a hand-written backward.

At small batches a step's cost is the number of array calls, not arithmetic, and on the CPU a numpy call
costs 0.2-3 us where a torch call costs 2-5 (docs/performance.md, "Small batches"). One
``torch.autograd.Function`` takes the stack's groups and returns the Pauli strings' values. The plan
(``fastplan``) holds every number; its step is written out as straight-line code (``fastcode``) from the
pieces in ``fastops``: every fused gate of a kind (shared or per row) from one product of angles, one
``cos``/``sin`` and one batched product, kron blocks by broadcasting, then the states: a product state, each
block one product and each merged permutation one gather. Backward walks the same steps back, carrying the
conjugate of the gradient so that no step needs a conjugated copy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from qvec.blas import torch_thread_count
from qvec.circuit import Circuit
from qvec.circuit.observables import ObservableTerms
from qvec.circuit.parameters import ParameterStack, check_all_finite

from .fastcode import step_functions
from .fastplan import FastPlan, compile_fast_plan
from .memory import fits_budget, resolve_device
from .simulate import PLANS

__all__ = ["FAST_MAX_AMPLITUDES", "fast_expval"]

# The fast path runs a batch when rows x 2**n is at most this (and the states it keeps fit the memory
# budget); it was measured faster than the general path up to here (docs/performance.md, "Small batches").
FAST_MAX_AMPLITUDES = 2**20
_CPU = torch.device("cpu")


# ----- the autograd node -----------------------------------------------------------------------------

class _Evolve(torch.autograd.Function):
    """The stack's groups (as tensors, for autograd; ``tables`` their values by kind) -> Pauli-string values
    ``[B, k]``; backward runs the plan's written backward and splits each kind's gradient into its groups."""

    @staticmethod
    def forward(ctx: Any, plan: FastPlan, n_rows: int, tables: dict[bool, np.ndarray | None],
                *groups: torch.Tensor) -> torch.Tensor:
        step = step_functions(plan, n_rows == 1, ctx.needs_input_grad[3:])
        shape = (1 << plan.n_qubits - plan.n_low, n_rows, 1 << plan.n_low)
        perms, to_rows, _ = plan.indices(n_rows)
        with torch_thread_count():
            values, ctx.memo = step.forward(tables, shape, perms, to_rows)
        ctx.plan, ctx.step, ctx.shape, ctx.shapes = plan, step, shape, [g.shape for g in groups]
        return torch.from_numpy(values)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple:
        plan, step, needs, shape = ctx.plan, ctx.step, ctx.needs_input_grad[3:], ctx.shape
        perms, _, from_rows = plan.indices(shape[1])
        with torch_thread_count():
            tables = step.backward(ctx.memo, grad.detach().resolve_neg().numpy().astype(plan.real, copy=False), shape,
                                   perms, from_rows)
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
    if not isinstance(params, ParameterStack) or (device is not None and resolve_device(device).type != "cpu"):
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
