"""The CPU engine for pure-state gate circuits: the whole run as one autograd node with an adjoint backward.

At small batches a run is dominated by the fixed cost of many small tensor operations and their
autograd nodes, not by arithmetic. For circuits of vacuum/Fock preparations and D, S, R, K, BS gates
on a CPU, ``evolve`` instead runs the circuit in numpy (its products through torch, which keeps to
torch's thread count) inside one ``torch.autograd.Function``: every gate of a kind for every row built
by one table contraction (``tables``), the state evolved gate by gate, and the backward pass written by hand (the adjoint sweep: each gate's input state kept, the
output gradient pulled back through ``G^dagger``, each gate's gradient ``sum_b g_b x_b^dagger``
contracted with the gate's exact parameter derivative). The plan (which parameter feeds which gate,
index arrays, phase exponents) is made once per circuit, parameter layout, cutoff, dtype and batch.

It applies gates one by one, so ``simulate`` gives it only states below the size where the general
engine starts fusing shared two-mode gates into one operator (``fuse.worth_fusing_two_modes``: at M = 2,
cutoff 8, B < 64), where per-operation overhead, not arithmetic, is what a step costs. Everything else
(larger states, mixed states, channels, thermal or ket preparations, MZ, S2, CK, gates given tensor
angles directly, other devices) runs on the general engine.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from qvec.circuit.parameters import ParameterStack

from .prepare import initial_state
from .tables import matmul, zero_phase_derivative, zero_phase_gate

__all__ = ["supports", "evolve"]

NUMPY_COMPLEX = {torch.complex64: np.complex64, torch.complex128: np.complex128}
ZERO_PHASE = {"d": "displacement", "s": "squeezing", "bs": "beamsplitter"}
DIAGONALS = ("r", "k")
PREPARATIONS = ("vacuum", "fock")
# Ops on the batch axis (moves, reshapes) are views; a kind's rows are [instances x rows] in that order.
Layout = tuple[tuple[tuple[str, ...], bool], ...]  # each source: (names, per_row)


# Per circuit (append-only, so its length versions it): whether it is supported, and its plans.
_PLANS: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()


def supports(circuit: Any, device: torch.device) -> bool:
    """Whether ``evolve`` runs ``circuit``: a CPU run of preparations and gates it knows, all angles names or floats."""
    if device.type != "cpu":
        return False
    plans = _PLANS.setdefault(circuit, {})
    key = ("supports", len(circuit))
    if key not in plans:
        plans[key] = all((op.name in PREPARATIONS or op.name in ZERO_PHASE or op.name in DIAGONALS)
                         and not any(isinstance(p, torch.Tensor) for p in op.params) for op in circuit)
    return plans[key]


@dataclass(frozen=True)
class Gate:
    """One gate of the plan: its kind, modes, rows (1 shared or B) and where its rows sit in its kind's stack."""

    name: str
    modes: tuple[int, ...]
    rows: int
    start: int


@dataclass(frozen=True)
class Kind:
    """All gates of one name: per parameter slot, the index of each stacked row in the flat value vector."""

    name: str
    slots: tuple[np.ndarray, ...]
    exponents: tuple[np.ndarray, ...]  # what the phase multiplies on the gate's grid (diagonal: on its axis)
    axes: tuple[int, int] = (0, 0)  # a dense gate's phase: exp(i scale phi (index on axes[0] - index on axes[1]))
    scale: float = 1.0
    powers: np.ndarray | None = None  # 0..c-1


@dataclass(frozen=True)
class Plan:
    n_modes: int
    cutoff: int
    dtype: Any
    rows: int
    start: np.ndarray  # the initial ket [1, c..] (vacuum and Fock preparations)
    gates: tuple[Gate, ...]
    kinds: dict[str, Kind]
    n_shared: int  # flat values: shared ones, then constants, then per-row columns (B each)
    constants: np.ndarray


def evolve(circuit: Any, params: Any, values: dict[str, torch.Tensor], rows: int, cutoff: int,
           dtype: torch.dtype) -> torch.Tensor:
    """The output ket ``[B, c, ..]`` of ``circuit``; ``values`` are the bound parameters (0-d or ``[B]``)."""
    sources = _sources(params, values, circuit.parameters)
    layout: Layout = tuple((names, tensor.dim() == 2) for names, tensor in sources)
    key = (len(circuit), layout, cutoff, dtype, rows)
    plans = _PLANS.setdefault(circuit, {})
    plan = plans.get(key)
    if plan is None:
        plan = plans[key] = _plan(circuit, layout, rows, cutoff, dtype)
    shared = [t for _, t in sources if t.dim() == 1]
    per_row = [t for _, t in sources if t.dim() == 2]
    flat_shared = shared[0] if len(shared) == 1 else (torch.cat(shared) if shared else torch.zeros(0))
    flat_rows = per_row[0] if len(per_row) == 1 else (torch.cat(per_row, 1) if per_row else torch.zeros(rows, 0))
    return _Evolve.apply(plan, flat_shared, flat_rows)


def _sources(params: Any, values: dict[str, torch.Tensor],
             names: list[str]) -> list[tuple[tuple[str, ...], torch.Tensor]]:
    """The parameter values as a few tensors ``[P]`` (shared) or ``[B, P]`` (per row), with their names."""
    if isinstance(params, ParameterStack):
        return [(names, tensor) for names, tensor in params.groups]
    shared = [n for n in names if values[n].dim() == 0]
    per_row = [n for n in names if values[n].dim() == 1]
    sources = []
    if shared:
        sources.append((tuple(shared), torch.stack([values[n] for n in shared])))
    if per_row:
        sources.append((tuple(per_row), torch.stack([values[n] for n in per_row], 1)))
    return sources


def _plan(circuit: Any, layout: Layout, rows: int, cutoff: int, dtype: torch.dtype) -> Plan:
    """Where every gate parameter comes from in the flat value vector, per kind; the gates in order."""
    where: dict[str, tuple[bool, int]] = {}
    counts = [0, 0]
    for names, per_row in layout:
        for name in names:
            where[name] = (per_row, counts[per_row])
            counts[per_row] += 1
    constants = [float(p) for op in circuit for p in op.params if not isinstance(p, str)]
    n_shared, row_base = counts[0], counts[0] + len(constants)
    preparations = [(op, None) for op in circuit if op.name in PREPARATIONS]
    start = initial_state(circuit.n_modes, preparations, cutoff, dtype, torch.device("cpu"), False).numpy()
    gates: list[Gate] = []
    indices: dict[str, list[list[np.ndarray]]] = {}
    constant = n_shared
    for op in circuit:
        if op.name in PREPARATIONS:
            continue
        located = []
        for value in op.params:
            if isinstance(value, str):
                located.append(where[value])
            else:
                located.append((False, constant))
                constant += 1
        gate_rows = rows if any(per_row for per_row, _ in located) else 1
        slots = indices.setdefault(op.name, [[] for _ in op.params])
        gates.append(Gate(op.name, op.modes, gate_rows, sum(len(i) for i in slots[0])))
        for slot, (per_row, index) in zip(slots, located):
            slot.append(row_base + index * rows + np.arange(rows) if per_row else np.full(gate_rows, index))
    kinds = {name: _kind(name, [np.concatenate(s) for s in slots], cutoff) for name, slots in indices.items()}
    return Plan(circuit.n_modes, cutoff, NUMPY_COMPLEX[dtype], rows, start, tuple(gates), kinds, n_shared,
                np.array(constants, dtype=np.float64))


def _kind(name: str, slots: list[np.ndarray], cutoff: int) -> Kind:
    """A kind's slots with the photon-number pattern its phase multiplies (``exp(i phi E)``)."""
    n = np.arange(cutoff, dtype=np.float64)
    if name in DIAGONALS:
        return Kind(name, tuple(slots), (n if name == "r" else n * n,))
    scale = 0.5 if name == "s" else 1.0
    if name == "bs":  # BS(theta, phi) = R_2(phi) BS(theta, 0) R_2(-phi) on [m, n, p, q]: n - q
        grid = np.meshgrid(n, n, n, n, indexing="ij")
        return Kind(name, tuple(slots), (grid[1] - grid[3],), (1, 3), scale, n)
    return Kind(name, tuple(slots), (scale * (n[:, None] - n[None, :]),), (0, 1), scale, n)


def _view(state: np.ndarray, modes: tuple[int, ...], cutoff: int) -> tuple[np.ndarray, bool]:
    """``state`` ``[B, c..]`` as ``[B, L, c^k, R]`` around ``modes`` (moved next to each other first if they are not)."""
    k, n_modes = len(modes), state.ndim - 1
    if modes == tuple(range(modes[0], modes[0] + k)):
        return state.reshape(state.shape[0], cutoff ** modes[0], cutoff**k, -1), False
    moved = np.moveaxis(state, [1 + m for m in modes], list(range(1, 1 + k)))
    return moved.reshape(state.shape[0], 1, cutoff**k, cutoff ** (n_modes - k)), True


def _unview(out: np.ndarray, modes: tuple[int, ...], moved: bool, n_modes: int, cutoff: int) -> np.ndarray:
    """Undo ``_view`` on a result ``[B, L, c^k, R]``."""
    state = out.reshape((out.shape[0],) + (cutoff,) * n_modes)
    if moved:
        state = np.moveaxis(state, list(range(1, 1 + len(modes))), [1 + m for m in modes])
    return state


def _build(plan: Plan, flat: np.ndarray) -> dict[str, tuple[np.ndarray, ...]]:
    """Per kind, every stacked gate ``[G, ..]`` in the state's dtype, with what its backward needs."""
    built = {}
    for name, kind in plan.kinds.items():
        if name in DIAGONALS:
            phase = np.exp(1j * flat[kind.slots[0]][:, None] * kind.exponents[0])
            built[name] = (phase.astype(plan.dtype), phase)
            continue
        theta, phi = flat[kind.slots[0]], flat[kind.slots[1]]
        zero_phase = zero_phase_gate(ZERO_PHASE[name], theta, plan.cutoff)
        turn = np.exp(1j * kind.scale * phi[:, None] * kind.powers)  # e^{i s phi k}, [G, c]
        rotation = _outer(kind, turn)
        gate = zero_phase * rotation
        built[name] = (gate.astype(plan.dtype), gate, zero_phase, theta, rotation)
    return built


def _operators(plan: Plan, built: dict[str, tuple[np.ndarray, ...]]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each gate's operator as its application broadcasts it (``[rows, 1, c^k, c^k]``, diagonals ``[rows, 1, c, 1]``)
    and its adjoint, sliced from one stack per kind."""
    stacks = {}
    for name, values in built.items():
        gates = values[0]
        if name in DIAGONALS:
            operator = gates[:, None, :, None]
        else:
            size = plan.cutoff ** (gates.ndim // 2)
            operator = gates.reshape(gates.shape[0], 1, size, size)
        stacks[name] = (operator, operator.conj() if name in DIAGONALS else operator.conj().swapaxes(-1, -2))
    operators = [stacks[g.name][0][g.start:g.start + g.rows] for g in plan.gates]
    adjoints = [stacks[g.name][1][g.start:g.start + g.rows] for g in plan.gates]
    return operators, adjoints


def _outer(kind: Kind, turn: np.ndarray) -> np.ndarray:
    """``exp(i s phi (out - in))`` on the gate's index grid from ``turn`` = ``exp(i s phi k)`` [G, c]."""
    shape = [turn.shape[0]] + [1] * kind.exponents[0].ndim
    out_shape, in_shape = list(shape), list(shape)
    out_shape[1 + kind.axes[0]] = in_shape[1 + kind.axes[1]] = turn.shape[1]
    return turn.reshape(out_shape) * turn.conj().reshape(in_shape)


def _forward(plan: Plan, operators: list[np.ndarray], keep: bool) -> tuple[np.ndarray, list]:
    """The output state and, if ``keep``, each gate's input state."""
    state = plan.start
    inputs = []
    for gate, operator in zip(plan.gates, operators):
        if keep:
            inputs.append(state)
        x, moved = _view(state, gate.modes, plan.cutoff)
        out = x * operator if gate.name in DIAGONALS else _contract(operator, x)
        state = _unview(out, gate.modes, moved, plan.n_modes, plan.cutoff)
    return state, inputs


def _contract(operator: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``operator`` ``[Bo, 1, K, K]`` applied to ``x`` ``[B, L, K, R]``; a shared one as one matrix product over
    all rows (not B small ones)."""
    if operator.shape[0] > 1:
        return matmul(operator, x)
    matrix = operator[0, 0]
    if x.shape[3] == 1:
        return matmul(x.reshape(-1, x.shape[2]), matrix.T).reshape(x.shape)
    return matmul(x.swapaxes(-1, -2), matrix.T).swapaxes(-1, -2)


def _backward(plan: Plan, built: dict[str, tuple[np.ndarray, ...]], adjoints: list[np.ndarray],
              inputs: list[np.ndarray], grad: np.ndarray) -> dict[str, np.ndarray]:
    """The adjoint sweep: the loss's gradient with respect to every stacked gate, per kind."""
    grads = {name: np.zeros_like(values[0]) for name, values in built.items()}
    for index in range(len(plan.gates) - 1, -1, -1):
        gate, x_state = plan.gates[index], inputs[index]
        g, moved = _view(grad, gate.modes, plan.cutoff)
        x, _ = _view(x_state, gate.modes, plan.cutoff)
        if gate.name in DIAGONALS:
            product = g * x.conj()
            gate_grad = product.sum((1, 3)) if gate.rows > 1 else product.sum((0, 1, 3))[None]
        else:
            gate_grad = matmul(g, x.conj().swapaxes(-1, -2)).sum(1) if gate.rows > 1 else _batch_outer(g, x)
        target = grads[gate.name]
        target[gate.start:gate.start + gate.rows] = gate_grad.reshape((gate.rows,) + target.shape[1:])
        if index == 0:  # the first gate's input is the constant start state: nothing to pull back
            break
        pulled = adjoints[index] * g if gate.name in DIAGONALS else _contract(adjoints[index], g)
        if x_state.shape[0] == 1 and pulled.shape[0] > 1:
            pulled = pulled.sum(0, keepdims=True)
        grad = _unview(pulled, gate.modes, moved, plan.n_modes, plan.cutoff)
    return grads


def _parameter_grads(plan: Plan, built: dict[str, tuple[np.ndarray, ...]], grads: dict[str, np.ndarray],
                     size: int) -> np.ndarray:
    """The loss's gradient with respect to every flat value, from the gates' gradients and exact derivatives."""
    flat_grad = np.zeros(size)
    for name, kind in plan.kinds.items():
        gate_grad = grads[name].astype(np.complex128)
        axes = tuple(range(1, gate_grad.ndim))
        if name in DIAGONALS:
            phase = built[name][1]
            np.add.at(flat_grad, kind.slots[0], ((phase.conj() * gate_grad).imag * kind.exponents[0]).sum(axes))
            continue
        _, gate, zero_phase, theta, rotation = built[name]
        derivative = zero_phase_derivative(ZERO_PHASE[name], theta, zero_phase)
        np.add.at(flat_grad, kind.slots[0], (derivative * (rotation.conj() * gate_grad).real).sum(axes))
        np.add.at(flat_grad, kind.slots[1], ((gate.conj() * gate_grad).imag * kind.exponents[0]).sum(axes))
    return flat_grad


def _batch_outer(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``sum_{b, l, r} g[b, l, i, r] conj(x[b, l, j, r])`` as ``[1, c^k, c^k]``: a shared gate's gradient."""
    x = np.broadcast_to(x, g.shape)
    size = g.shape[2]
    if g.shape[3] == 1:  # the gate's modes are the last ones: [B L, c^k] each, no moves
        return matmul(g.reshape(-1, size).T, x.reshape(-1, size).conj())[None]
    left = np.moveaxis(g, 2, 0).reshape(size, -1)
    right = np.moveaxis(x, 2, -1).reshape(-1, size).conj()
    return matmul(left, right)[None]


class _Evolve(torch.autograd.Function):
    """The ket of a plan for shared values ``[S]`` and per-row values ``[B, R]``; backward by the adjoint sweep."""

    @staticmethod
    def forward(ctx: Any, plan: Plan, shared: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        flat = np.concatenate([shared.detach().numpy().astype(np.float64), plan.constants,
                               rows.detach().numpy().astype(np.float64).T.reshape(-1)])
        built = _build(plan, flat)
        operators, adjoints = _operators(plan, built)
        state, inputs = _forward(plan, operators, any(ctx.needs_input_grad))
        ctx.plan, ctx.built, ctx.adjoints, ctx.inputs, ctx.size = plan, built, adjoints, inputs, flat.shape[0]
        ctx.dtypes = shared.dtype, rows.dtype
        out = torch.from_numpy(np.ascontiguousarray(state))
        return out.expand((plan.rows,) + out.shape[1:]) if out.shape[0] != plan.rows else out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[None, torch.Tensor | None, torch.Tensor | None]:
        plan = ctx.plan
        grads = _backward(plan, ctx.built, ctx.adjoints, ctx.inputs, grad.detach().resolve_conj().resolve_neg().numpy())
        flat_grad = _parameter_grads(plan, ctx.built, grads, ctx.size)
        row_base = plan.n_shared + plan.constants.shape[0]
        shared = torch.from_numpy(flat_grad[:plan.n_shared]).to(ctx.dtypes[0])
        rows = torch.from_numpy(np.ascontiguousarray(flat_grad[row_base:].reshape(-1, plan.rows).T)).to(ctx.dtypes[1])
        return None, shared, rows
