"""The CPU engine for pure-state gate circuits: the whole run as one autograd node with an adjoint backward.

At small batches a run is dominated by the fixed cost of many small tensor operations and their
autograd nodes, not by arithmetic. For circuits of vacuum/Fock preparations and D, S, R, K, BS gates
on a CPU, ``evolve`` instead runs the circuit in numpy inside one ``torch.autograd.Function``: every
gate of a kind for every row built by one table contraction (``tables``), then each gate applied by
one call, and the backward pass written by hand (the adjoint sweep: each gate's input state kept, the
output gradient pulled back through ``G^dagger``, each gate's gradient ``sum_b g_b x_b^dagger``
contracted with the gate's exact parameter derivative). The state is kept as ``[c, .., c, B]``, the
batch last, so that a gate shared by the batch is one matrix product over all rows with no copy.
The plan (which parameter feeds which gate, views, phase exponents) is made once per circuit,
parameter layout, cutoff, dtype and batch.

It applies gates one by one (shared R and K folded into a neighbouring D or S), so ``simulate`` gives it
states up to ``simulate.ADJOINT_MAX_AMPLITUDES`` (B <= 512 at M = 2, cutoff 8), or below the size where the
general engine starts fusing shared two-mode gates into one operator. Everything else
(larger states, mixed states, channels, thermal or ket preparations, MZ, S2, CK, gates given tensor
angles directly, other devices) runs on the general engine.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from qvec.circuit.parameters import ParameterStack
from qvec.errors import InputError

from qvec.blas import torch_thread_count

from .expectations import Form, applied, pulled_back, quadratic_forms
from .prepare import initial_state
from .sweep import sweep_functions
from .tables import table_for, zero_phase_entries

__all__ = ["NotFinite", "supports", "evolve", "expect"]

NUMPY_COMPLEX = {torch.complex64: np.complex64, torch.complex128: np.complex128}
ZERO_PHASE = {"d": "displacement", "s": "squeezing", "bs": "beamsplitter"}
DIAGONALS = ("r", "k")
PREPARATIONS = ("vacuum", "fock")
Layout = tuple[tuple[tuple[str, ...], bool], ...]  # each source: (names, per_row)


class NotFinite(InputError):
    """A value given to a run is nan or inf (``simulate`` then binds the values in full, which names it)."""


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
    """One gate of the plan: its kind, its rows (1 shared or B) and where they sit in its kind's stack; how the
    state ``[c, .., c, R]`` is seen by it: ``moves`` (a transpose bringing its modes first, or None) and ``view``
    ``[L, K, S]`` (modes before, the gate's, after; the batch R follows); ``batch_in`` is R of its input state. ``fresh``
    is the Fock level its mode was prepared in when a per-row one-mode gate is the first gate on that mode: it
    then only reads that column of its matrices (a latent ``D(z)|0>`` is a coherent state per row)."""

    name: str
    rows: int
    start: int
    moves: tuple[int, ...] | None
    view: tuple[int, int, int]
    batch_in: int
    fresh: int | None = None

    @property
    def diagonal(self) -> bool:
        return self.name in DIAGONALS


@dataclass(frozen=True)
class Kind:
    """All gates of one name: per parameter slot, the index of each stacked row in the flat value vector, and
    ``exponents``, what the phase multiplies (``exp(i phi E)``): along a diagonal gate's axis, or on a dense gate's
    non-zero ``entries`` (of its flattened ``[K, K]`` matrix)."""

    name: str
    slots: tuple[np.ndarray, ...]
    exponents: np.ndarray
    entries: np.ndarray | None = None


@dataclass(frozen=True)
class Phases:
    """Every kind's phases from one ``cos`` and one ``sin``: ``exp(i flat[index] * exponent)``. First the diagonal kinds'
    ``[G, c]`` and a row of ones (``folded``: the table ``_fold_phases`` reads, its last row "no phase"), then each
    dense kind's distinct exponents ``[G, U]``; kind ``k``'s at ``parts[k]``, ``spread[k]`` taking them to its
    ``[G, E]`` entries (None for the diagonal kinds, already so)."""

    index: np.ndarray
    exponent: np.ndarray
    parts: dict[str, slice]
    spread: dict[str, np.ndarray | None]
    folded: slice


@dataclass(frozen=True)
class Plan:
    n_modes: int
    cutoff: int
    dtype: Any
    rows: int
    start: np.ndarray  # the initial ket [c, .., c, 1] (vacuum and Fock preparations)
    gates: tuple[Gate, ...]
    kinds: dict[str, Kind]
    n_shared: int  # flat values: shared ones, then constants, then per-row columns (B each)
    constants: np.ndarray
    batch_out: int  # R of the output state: 1 when no gate reads a per-row value
    folds: dict[str, tuple[np.ndarray, np.ndarray]]  # a one-mode kind's phases after and before each row (below)
    diagonals: tuple[str, ...]  # the diagonal kinds, in the order their phases are stacked for ``folds``
    phases: Phases
    # ``folds``' two sides as one 0/1 matrix [stacked phases + 1, 2 G]: a product adds each row's gradient into its phase.
    scatters: dict[str, np.ndarray]
    grad_slots: np.ndarray  # the flat values that ``_parameter_grads``' terms add into, in the order it makes them
    grad_signs: np.ndarray  # and each term's sign (a phase's term is minus the sum it takes)
    code: dict = field(default_factory=dict, compare=False)  # its sweep, written on first use (``sweep``)


def evolve(circuit: Any, params: Any, values: dict[str, torch.Tensor], rows: int, cutoff: int,
           dtype: torch.dtype) -> torch.Tensor:
    """The output ket ``[B, c, ..]`` of ``circuit``; ``values`` are the bound parameters (0-d or ``[B]``)."""
    return _Evolve.apply(*_inputs(circuit, params, values, rows, cutoff, dtype), ())


def expect(circuit: Any, params: Any, values: dict[str, torch.Tensor], rows: int, cutoff: int, dtype: torch.dtype,
           forms: tuple[Form, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """The readouts ``Re <psi|H_k|psi>`` ``[B, K]`` of ``forms`` on the output ket, the same one node from the
    parameters through to them (its backward starts from ``2 sum_k g_k H_k psi``), and the squared norm of each of
    the ket's rows (float64, no graph; one row when no gate reads a per-row value)."""
    return _Evolve.apply(*_inputs(circuit, params, values, rows, cutoff, dtype), forms)


def _inputs(circuit: Any, params: Any, values: dict[str, torch.Tensor], rows: int, cutoff: int,
            dtype: torch.dtype) -> tuple[Plan, torch.Tensor, torch.Tensor]:
    """The circuit's plan (made once per layout) and its values as shared ``[S]`` and per-row ``[B, R]`` tensors."""
    sources = _sources(params, values, circuit)
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
    return plan, flat_shared, flat_rows


def _sources(params: Any, values: dict[str, torch.Tensor], circuit: Any) -> list[tuple[tuple[str, ...], torch.Tensor]]:
    """The parameter values as a few tensors ``[P]`` (shared) or ``[B, P]`` (per row), with their names."""
    if isinstance(params, ParameterStack):
        return list(params.groups)
    names = circuit.parameters
    shared = [n for n in names if values[n].dim() == 0]
    per_row = [n for n in names if values[n].dim() == 1]
    sources = []
    if shared:
        sources.append((tuple(shared), torch.stack([values[n] for n in shared])))
    if per_row:
        sources.append((tuple(per_row), torch.stack([values[n] for n in per_row], 1)))
    return sources


# ----- the plan ----------------------------------------------------------------------------------------

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
    constant, batch = n_shared, 1
    levels = {op.modes[0]: op.data if op.name == "fock" else 0 for op, _ in preparations}
    untouched = set(range(circuit.n_modes))
    modes = []
    for op in circuit:
        if op.name in PREPARATIONS:
            continue
        modes.append(op.modes)
        located = []
        for value in op.params:
            if isinstance(value, str):
                located.append(where[value])
            else:
                located.append((False, constant))
                constant += 1
        gate_rows = rows if any(per_row for per_row, _ in located) else 1
        slots = indices.setdefault(op.name, [[] for _ in op.params])
        moves, view = _placement(op.modes, circuit.n_modes, cutoff)
        fresh = (levels.get(op.modes[0], 0) if gate_rows > 1 and len(op.modes) == 1 and op.modes[0] in untouched
                 and op.name not in DIAGONALS else None)
        gates.append(Gate(op.name, gate_rows, sum(len(i) for i in slots[0]), moves, view, batch, fresh))
        batch = max(batch, gate_rows)
        untouched -= set(op.modes)
        for slot, (per_row, index) in zip(slots, located):
            slot.append(row_base + index * rows + np.arange(rows) if per_row else np.full(gate_rows, index))
    kinds = {name: _kind(name, [np.concatenate(s) for s in slots], cutoff) for name, slots in indices.items()}
    diagonals = tuple(name for name in kinds if name in DIAGONALS)
    kept, folds = _fold(gates, modes, kinds, diagonals)
    total = sum(len(kinds[name].slots[0]) for name in diagonals) + 1
    return Plan(circuit.n_modes, cutoff, NUMPY_COMPLEX[dtype], rows, np.moveaxis(start, 0, -1), kept, kinds,
                n_shared, np.array(constants, dtype=np.float64), batch, folds, diagonals,
                _phases(kinds, diagonals, cutoff),
                {name: np.eye(total, dtype=np.complex128)[:, np.concatenate([left, right])]
                 for name, (left, right) in folds.items()},
                *_gradient_terms(kinds))


def _gradient_terms(kinds: dict[str, Kind]) -> tuple[np.ndarray, np.ndarray]:
    """The flat value each term of ``_parameter_grads`` adds into, in its order (per kind: a diagonal's phase;
    a dense kind's ``theta``, then ``phi``), and the term's sign (-1 for a phase)."""
    slots = [(slot, 1.0 if kind.name not in DIAGONALS and k == 0 else -1.0)
             for kind in kinds.values() for k, slot in enumerate(kind.slots[:1 if kind.name in DIAGONALS else 2])]
    return (_joined([slot for slot, _ in slots], np.int64),
            _joined([np.full(len(slot), sign) for slot, sign in slots], np.float64))


def _phases(kinds: dict[str, Kind], diagonals: tuple[str, ...], cutoff: int) -> Phases:
    """Where each kind's phase angles sit among all of them (``Phases``); a dense kind computes each distinct
    exponent once (a beamsplitter's 344 entries have 15)."""
    terms = {name: (kinds[name].slots[0], kinds[name].exponents) for name in diagonals}
    if diagonals:  # the fold's "no phase" row: a diagonal gate's value times 0
        terms[""] = (kinds[diagonals[0]].slots[0][:1], np.zeros(cutoff))
    spread: dict[str, np.ndarray | None] = {name: None for name in diagonals}
    for name, kind in kinds.items():
        if name not in DIAGONALS:
            distinct, spread[name] = np.unique(kind.exponents, return_inverse=True)
            terms[name] = (kind.slots[1], distinct)
    bounds = np.cumsum([0] + [len(slots) * len(exponents) for slots, exponents in terms.values()])
    parts = {name: slice(int(a), int(b)) for name, a, b in zip(terms, bounds[:-1], bounds[1:])}
    return Phases(_joined([np.repeat(slots, len(exponents)) for slots, exponents in terms.values()], np.int64),
                  _joined([np.tile(exponents, len(slots)) for slots, exponents in terms.values()], np.float64),
                  parts, spread, slice(0, parts[""].stop if diagonals else 0))


def _joined(arrays: list[np.ndarray], dtype: Any) -> np.ndarray:
    """The arrays end to end (empty for a circuit without gates)."""
    return np.concatenate(arrays) if arrays else np.zeros(0, dtype=dtype)


def _fold(gates: list[Gate], modes: list[tuple[int, ...]], kinds: dict[str, Kind],
          diagonals: tuple[str, ...]) -> tuple[tuple[Gate, ...], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Fold shared diagonal gates (R, K) into a neighbouring one-mode dense gate (D, S) on the same mode: ``F = L G R``
    with ``L`` the phases right after ``G`` and ``R`` those right before it (gates on other modes commute between).
    Returns the gates still applied to the state and, per dense kind, each stacked row's ``L`` and ``R`` as indices
    into the diagonal kinds' phases stacked in ``diagonals`` order (the last index: no phase)."""
    offsets, total = {}, 0
    for name in diagonals:
        offsets[name], total = total, total + len(kinds[name].slots[0])
    sides = {name: [np.full(len(kinds[name].slots[0]), total), np.full(len(kinds[name].slots[0]), total)]
             for name in kinds if name in ("d", "s")}
    taken, folded = set(), set()

    def neighbour(index: int, step: int) -> int | None:
        """The nearest gate before (step -1) or after (+1) ``index`` on its mode, unless it is folded away."""
        j = index + step
        while 0 <= j < len(gates) and (j in folded or modes[index][0] not in modes[j]):
            j += step
        return j if 0 <= j < len(gates) else None

    for index, gate in enumerate(gates):
        if not gate.diagonal or gate.rows != 1:
            continue
        for step, side in ((-1, 0), (1, 1)):
            j = neighbour(index, step)
            if j is not None and gates[j].name in sides and (j, side) not in taken:
                target = gates[j]
                sides[target.name][side][target.start:target.start + target.rows] = offsets[gate.name] + gate.start
                taken.add((j, side))
                folded.add(index)
                break
    kept = tuple(gate for index, gate in enumerate(gates) if index not in folded)
    return kept, {name: (left, right) for name, (left, right) in sides.items() if (left < total).any() or (right < total).any()}


def _placement(modes: tuple[int, ...], n_modes: int, cutoff: int) -> tuple[tuple[int, ...] | None, tuple[int, int, int]]:
    """The transpose bringing ``modes`` first (None when they already sit together, in order) and the view."""
    k = len(modes)
    if modes == tuple(range(modes[0], modes[0] + k)):
        return None, (cutoff ** modes[0], cutoff**k, cutoff ** (n_modes - modes[0] - k))
    rest = [m for m in range(n_modes) if m not in modes]
    return (*modes, *rest, n_modes), (1, cutoff**k, cutoff ** (n_modes - k))


def _kind(name: str, slots: list[np.ndarray], cutoff: int) -> Kind:
    """A kind's slots with the photon-number pattern its phase multiplies."""
    n = np.arange(cutoff, dtype=np.float64)
    if name in DIAGONALS:
        return Kind(name, tuple(slots), n if name == "r" else n * n)
    entries = table_for(ZERO_PHASE[name], cutoff).entries
    if name == "bs":  # BS(theta, phi) = R_2(phi) BS(theta, 0) R_2(-phi) on [m, n, p, q]: n - q
        grid = np.meshgrid(n, n, n, n, indexing="ij")
        return Kind(name, tuple(slots), (grid[1] - grid[3]).reshape(-1)[entries], entries)
    scale = 0.5 if name == "s" else 1.0  # D(r, phi), S(r, phi): exp(i scale phi (m - n)) on [m, n]
    return Kind(name, tuple(slots), (scale * (n[:, None] - n[None, :])).reshape(-1)[entries], entries)


# ----- gates of a kind, built at once ------------------------------------------------------------------

def _turns(angles: np.ndarray) -> np.ndarray:
    """``exp(i angles)`` (complex128) from one ``cos`` and one ``sin``: numpy's complex ``exp`` takes 4x as long."""
    out = np.empty(angles.shape, dtype=np.complex128)
    np.cos(angles, out=out.real)
    np.sin(angles, out=out.imag)
    return out


def _build(plan: Plan, flat: np.ndarray) -> dict[str, tuple[np.ndarray, ...]]:
    """Per kind, every stacked gate in the state's dtype (dense ``[G, K, K]``, diagonal ``[G, c]``), then what its
    backward needs: a dense kind's zero-phase entries ``[G, E]``, their phases and their derivatives."""
    built = {}
    table = plan.phases
    turns = _turns(flat[table.index] * table.exponent)
    for name, kind in plan.kinds.items():
        phases = turns[table.parts[name]].reshape(len(kind.slots[0]), -1)
        if table.spread[name] is not None:
            phases = phases.take(table.spread[name], 1)
        if name in DIAGONALS:
            built[name] = (phases.astype(plan.dtype), phases)
            continue
        theta = flat[kind.slots[0]]
        values, slopes = zero_phase_entries(ZERO_PHASE[name], theta, plan.cutoff)
        size = plan.cutoff ** (2 if name == "bs" else 1)
        gates = np.zeros((theta.shape[0], size * size), dtype=plan.dtype)
        gates[:, kind.entries] = values * phases
        built[name] = (gates.reshape(-1, size, size), values, phases, slopes)
    if plan.folds:
        _fold_phases(plan, built, turns[table.folded].reshape(-1, plan.cutoff).astype(plan.dtype))
    return built


def _fold_phases(plan: Plan, built: dict[str, tuple[np.ndarray, ...]], phases: np.ndarray) -> None:
    """Each folding kind's stack becomes ``L G R`` (``phases``: every diagonal gate's, then a row of ones); ``L`` and
    ``R`` are kept at the end of its tuple."""
    for name, (left, right) in plan.folds.items():
        gates, *rest = built[name]
        after, before = phases[left], phases[right]
        built[name] = (after[:, :, None] * gates * before[:, None, :], *rest, after, before)


def _unfold_grads(plan: Plan, built: dict[str, tuple[np.ndarray, ...]], grads: dict[str, np.ndarray]) -> None:
    """From the conjugated gradients ``h`` of the stacks ``F = L G R`` to those of ``G`` (``L h R``) and of the folded
    phases (in place): with ``|L| = |R| = 1``, ``L*_i sum_j h_ij F_ij`` for the row phases, ``R*_j sum_i h_ij F_ij``
    for the column ones."""
    phase_grads = np.zeros((plan.scatters[next(iter(plan.folds))].shape[0], plan.cutoff), dtype=np.complex128)
    for name in plan.folds:
        fused, after, before = built[name][0], built[name][-2], built[name][-1]
        fused_grad = grads[name]
        grads[name] = after[:, :, None] * fused_grad * before[:, None, :]
        both = fused_grad * fused
        sides = np.concatenate([after.conj() * both.sum(-1), before.conj() * both.sum(-2)])
        phase_grads += plan.scatters[name] @ sides
    start = 0
    for name in plan.diagonals:
        count = len(plan.kinds[name].slots[0])
        grads[name] += phase_grads[start:start + count]
        start += count


# ----- the run and its adjoint sweep (written out per plan: ``sweep``) ----------------------------------

def _forward(plan: Plan, built: dict[str, tuple[np.ndarray, ...]], keep: bool) -> tuple[np.ndarray, tuple]:
    """The output state ``[c, .., c, R]`` and, if ``keep``, each gate's input as the gate saw it."""
    state, inputs = sweep_functions(plan).forward({name: values[0] for name, values in built.items()}, plan.start)
    return state, inputs if keep else ()


def _backward(plan: Plan, built: dict[str, tuple[np.ndarray, ...]], inputs: tuple,
              mu: np.ndarray) -> dict[str, np.ndarray]:
    """The adjoint sweep from ``mu``, the conjugate of the output's gradient ``[c, .., c, R]``: the conjugated gradient
    ``conj(dL/dG)`` of every stacked gate, per kind (``sweep``)."""
    # Every dense stack entry is some gate's, written below; a diagonal kind's folded rows get theirs when unfolded.
    grads = {name: (np.zeros_like if name in DIAGONALS else np.empty_like)(values[0]) for name, values in built.items()}
    return sweep_functions(plan).backward({name: values[0] for name, values in built.items()}, grads, inputs, mu)


def _parameter_grads(plan: Plan, built: dict[str, tuple[np.ndarray, ...]], grads: dict[str, np.ndarray],
                     size: int) -> np.ndarray:
    """The loss's gradient with respect to every flat value, from the gates' conjugated gradients ``h`` and their
    exact derivatives.

    With ``G = v(theta) exp(i phi E)`` entrywise and ``t = exp(i phi E) h`` (the conjugate of
    ``conj(exp(i phi E)) dL/dG``): ``dL/dtheta = sum v' Re t`` and ``dL/dphi = -sum v E Im t`` (a diagonal: ``v = 1``).
    All terms are added into their values by one ``bincount`` over ``plan.grad_slots`` (repeated slots adding up),
    each times its sign in ``plan.grad_signs``."""
    terms = []
    for name, kind in plan.kinds.items():
        if name in DIAGONALS:
            terms.append(((built[name][1] * grads[name]).imag * kind.exponents).sum(1))
            continue
        values, phases, slopes = built[name][1:4]
        turned = phases * grads[name].reshape(values.shape[0], -1).take(kind.entries, 1)
        terms += [(slopes * turned.real).sum(1), (values * turned.imag * kind.exponents).sum(1)]
    return np.bincount(plan.grad_slots, _joined(terms, np.float64) * plan.grad_signs, minlength=size)


class _Evolve(torch.autograd.Function):
    """The ket of a plan for shared values ``[S]`` and per-row values ``[B, R]`` or, given ``forms``, their readouts
    and the rows' squared norms (no graph); backward by the adjoint sweep."""

    @staticmethod
    def forward(ctx: Any, plan: Plan, shared: torch.Tensor, rows: torch.Tensor,
                forms: tuple[Form, ...]) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        flat = np.concatenate([shared.detach().numpy().astype(np.float64), plan.constants,
                               rows.detach().numpy().astype(np.float64).T.reshape(-1)])
        if not np.isfinite(flat).all():
            raise NotFinite("a parameter value of the photonic circuit is not finite (nan or inf)")
        with torch_thread_count():
            built = _build(plan, flat)
            state, inputs = _forward(plan, built, any(ctx.needs_input_grad))
            hpsi = applied(forms, state, 0) if forms else None
        ctx.plan, ctx.built, ctx.inputs, ctx.size, ctx.applied = plan, built, inputs, flat.shape[0], hpsi
        ctx.dtypes = shared.dtype, rows.dtype
        if not forms:
            return _rows_first(torch.from_numpy(np.ascontiguousarray(np.moveaxis(state, -1, 0))), plan.rows)
        norms = torch.from_numpy(np.square(np.abs(state.reshape(-1, state.shape[-1])), dtype=np.float64).sum(0))
        ctx.mark_non_differentiable(norms)
        ctx.set_materialize_grads(False)
        return _rows_first(torch.from_numpy(np.ascontiguousarray(quadratic_forms(state, hpsi, -1))), plan.rows), norms

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad: torch.Tensor | None,
                 *_: Any) -> tuple[None, torch.Tensor | None, torch.Tensor | None, None]:
        plan = ctx.plan
        if grad is None:  # the readouts were not used (grads are not materialized)
            return None, None, None, None
        grad = grad.detach().resolve_conj().resolve_neg().numpy()
        if plan.batch_out == 1 and grad.shape[0] > 1:
            grad = grad.sum(0, keepdims=True)
        with torch_thread_count():
            state_grad = np.moveaxis(grad, 0, -1) if ctx.applied is None else pulled_back(grad, ctx.applied, -1)
            grads = _backward(plan, ctx.built, ctx.inputs, state_grad.conj())
            if plan.folds:
                _unfold_grads(plan, ctx.built, grads)
            flat_grad = _parameter_grads(plan, ctx.built, grads, ctx.size)
        row_base = plan.n_shared + plan.constants.shape[0]
        shared = torch.from_numpy(flat_grad[:plan.n_shared]).to(ctx.dtypes[0])
        rows = torch.from_numpy(np.ascontiguousarray(flat_grad[row_base:].reshape(-1, plan.rows).T)).to(ctx.dtypes[1])
        return None, shared, rows, None


def _rows_first(out: torch.Tensor, rows: int) -> torch.Tensor:
    """A result ``[R, ..]`` seen as ``[B, ..]``: a run whose gates are all shared (R = 1) serves every row."""
    return out.expand((rows,) + out.shape[1:]) if out.shape[0] != rows else out
