"""Run a photonic circuit for a batch: bind parameters, build matrices, fuse, apply, check.

The whole batch is one vectorized pass: every gate matrix of a kind is built in one call (all
instances and all rows stacked), neighbouring gates are fused, and each fused step is one
contraction with the ``[B, c, ..., c]`` state. Nothing loops over rows.
"""

from __future__ import annotations

import math
import weakref
from collections import defaultdict
from typing import Any, Mapping, Sequence

import torch

from qvec.circuit.parameters import ParameterStack, ParamValue, bind_parameters
from qvec.errors import InputError
from qvec.sim.memory import allocation_failures_as_errors, check_fits, fits_budget, memory_budget, resolve_device

from . import adjoint
from .apply import apply_diagonal, apply_operator
from .expectations import Form, read
from .fuse import CHANNEL_FORM, Step, fuse, worth_fusing_two_modes
from .operations import CHANNEL, DIAGONAL, Operation
from .prepare import STATE_FACTORS, initial_state, to_density_matrix
from .state import FockState
from .truncation import check_truncation

__all__ = ["simulate", "expect", "DEFAULT_CUTOFF", "DEFAULT_TRUNCATION_TOL"]

DEFAULT_CUTOFF = 10
DEFAULT_TRUNCATION_TOL = 1e-3
# Copies of the batch state a run holds at once (input, output, a contraction's temporary), plus one
# per operation when autograd records the run; a gate matrix entry is built in float64 then converted.
STATE_COPIES = 3
# Past 2**60 amplitudes a state overflows torch's int64 sizes; smaller ones are checked against the budget.
MAX_ADDRESSABLE_BITS = 60
MATRIX_BYTES_PER_ENTRY = 32
# States up to this many amplitudes run on the adjoint engine even where the general engine fuses two-mode gates:
# it was measured faster up to B = 512 at M = 2, cutoff 8 (1.19x; even at B = 768), B = 256 at cutoff 12 (1.5x;
# 0.83x at 1,024) and B = 64 at M = 3, cutoff 8 (1.54x); docs/performance.md.
ADJOINT_MAX_AMPLITUDES = 2**15
Value = float | torch.Tensor


def simulate(circuit: Any, params: Mapping[str, ParamValue] | None, *, cutoff: int | None = None,
             dtype: torch.dtype = torch.complex64, device: Any = None, renormalize: bool = False,
             truncation_tol: float | None = None) -> FockState:
    """The batched output state of ``circuit`` (a ``qvec.photonic.Circuit``) for ``params``."""
    cutoff = _checked(cutoff, dtype)
    state = _stack_on_adjoint(circuit, params, cutoff, dtype, device, ())
    if state is None:
        values, rows, named = _bind(circuit, params)
        device = resolve_device(device) if device is not None else _device_of(values)
        _check_size(circuit, values, rows, cutoff, dtype, device)
        with allocation_failures_as_errors(f"{circuit.n_modes} mode(s) at cutoff {cutoff} x B = {rows}"):
            if _on_adjoint(circuit, device, rows, cutoff):
                state = adjoint.evolve(circuit, params, named, rows, cutoff, dtype)
            else:
                state = _run(circuit, values, rows, cutoff, dtype, device)
    return _truncation_checked(state, circuit, cutoff, renormalize, truncation_tol)


def expect(circuit: Any, params: Mapping[str, ParamValue] | None, forms: Sequence[Form], *, cutoff: int | None = None,
           dtype: torch.dtype = torch.complex64, device: Any = None, renormalize: bool = False,
           truncation_tol: float | None = None) -> torch.Tensor:
    """The readouts ``Re <psi|H_k|psi>`` ``[B, K]`` of ``forms`` (``<x_phi>``, ``<n>``) on the output of ``circuit``.

    A stack of parameters on the adjoint engine runs as one node from the parameters through to the readouts (the
    truncation checked on its rows' norms); everything else reads them from ``simulate``'s state."""
    cutoff = _checked(cutoff, dtype)
    ran = None if renormalize else _stack_on_adjoint(circuit, params, cutoff, dtype, device, tuple(forms))
    if ran is None:
        return read(simulate(circuit, params, cutoff=cutoff, dtype=dtype, device=device, renormalize=renormalize,
                             truncation_tol=truncation_tol), forms)
    values, norms = ran
    if 1.0 - float(norms.min()) > (DEFAULT_TRUNCATION_TOL if truncation_tol is None else truncation_tol):
        with torch.no_grad():  # the state again, for the warning that names the rows and the mode (rare)
            simulate(circuit, params, cutoff=cutoff, dtype=dtype, device=device, truncation_tol=truncation_tol)
    return values


def _checked(cutoff: int | None, dtype: torch.dtype) -> int:
    """The cutoff (the default for None), once it and the dtype are checked."""
    if dtype not in (torch.complex64, torch.complex128):
        raise InputError(f"dtype must be torch.complex64 or torch.complex128, got {dtype}")
    return _checked_cutoff(cutoff)


def _truncation_checked(state: torch.Tensor, circuit: Any, cutoff: int, renormalize: bool,
                        truncation_tol: float | None) -> FockState:
    """The output as a ``FockState``, once the truncation is checked (and the rows renormalized if asked)."""
    pure = state.dim() == 1 + circuit.n_modes
    result = FockState(state, n_modes=circuit.n_modes, cutoff=cutoff, pure=pure, hbar=circuit.hbar)
    tol = DEFAULT_TRUNCATION_TOL if truncation_tol is None else truncation_tol
    return check_truncation(result, tol, renormalize=renormalize)


def _on_adjoint(circuit: Any, device: torch.device, rows: int, cutoff: int) -> bool:
    """Whether the adjoint engine runs this batch: a circuit it supports, with a state of at most
    ``ADJOINT_MAX_AMPLITUDES`` or below the general engine's two-mode fusion size."""
    amplitudes = rows * cutoff**circuit.n_modes
    return adjoint.supports(circuit, device) and (amplitudes <= ADJOINT_MAX_AMPLITUDES
                                                  or not worth_fusing_two_modes(amplitudes, cutoff))


# Per circuit: the sizes (shared, per row) of the ParameterStack layouts already bound and checked in full.
_STACK_SIZES: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()


def _stack_on_adjoint(circuit: Any, params: Any, cutoff: int, dtype: torch.dtype, device: Any,
                      forms: tuple[Form, ...]) -> Any:
    """A ``ParameterStack`` run on the adjoint engine (its ket, or given ``forms`` their readouts and the rows' norms), bound
    and sized in full once per stack layout (names, shapes, gradients); after that each call checks only what its
    numbers change (the memory budget; finite values, inside the engine). None where the general flow runs it, or refuses it with the
    error that names the problem."""
    if not isinstance(params, ParameterStack) or not params.groups:
        return None
    device = resolve_device(device) if device is not None else params.groups[0][1].device
    counts = {int(values.shape[0]) for _, values in params.groups if values.dim() == 2}
    rows = counts.pop() if len(counts) == 1 else 1 if not counts else 0
    if rows == 0 or not _on_adjoint(circuit, device, rows, cutoff):
        return None
    layout = tuple((names, tuple(values.shape), values.requires_grad) for names, values in params.groups)
    key = (len(circuit), layout, cutoff, dtype, torch.is_grad_enabled())
    sizes = _STACK_SIZES.setdefault(circuit, {})
    if key not in sizes:
        values, _, _ = _bind(circuit, params)
        _check_size(circuit, values, rows, cutoff, dtype, device)
        sizes[key] = _sizes(circuit, values, cutoff, dtype)
    shared, per_row = sizes[key]
    if not fits_budget(shared + rows * per_row, device):
        return None  # the full check says what does not fit
    try:
        with allocation_failures_as_errors(f"{circuit.n_modes} mode(s) at cutoff {cutoff} x B = {rows}"):
            if forms:
                return adjoint.expect(circuit, params, {}, rows, cutoff, dtype, forms)
            return adjoint.evolve(circuit, params, {}, rows, cutoff, dtype)
    except adjoint.NotFinite:
        return None  # the full binding names the parameter


def _run(circuit: Any, values: list[list[Value]], rows: int, cutoff: int, dtype: torch.dtype,
         device: torch.device) -> torch.Tensor:
    """The output state tensor ``[B, c..]`` (or ``[B, c.., c..]``): preparations, then the fused steps."""
    preparations = [(op, _first(vals, device)) for op, vals in zip(circuit, values) if op.name in STATE_FACTORS]
    starts_mixed = any(op.name == "thermal" for op, _ in preparations)
    state = initial_state(circuit.n_modes, preparations, cutoff, dtype, device, starts_mixed)
    steps = _steps(circuit, values, rows, cutoff, dtype, device)
    amplitudes = rows * cutoff ** (circuit.n_modes * (2 if circuit.is_mixed else 1))
    for step in fuse(steps, two_mode=worth_fusing_two_modes(amplitudes, cutoff)):
        state = _apply_step(state, step, circuit.n_modes)
    return state.expand(rows, *state.shape[1:]) if state.shape[0] != rows else state


def _check_size(circuit: Any, values: list[list[Value]], rows: int, cutoff: int, dtype: torch.dtype,
                device: torch.device) -> None:
    """Refuse, before allocating, a run whose states and gate matrices exceed the memory budget."""
    axes = circuit.n_modes * (2 if circuit.is_mixed else 1)
    if axes * math.log2(max(cutoff, 2)) > MAX_ADDRESSABLE_BITS:
        raise InputError(f"{circuit.n_modes} mode(s) at cutoff {cutoff}: a state would hold {cutoff}**{axes} "
                         "amplitudes, more than any memory holds: lower the cutoff or the number of modes")
    shared, per_row = _sizes(circuit, values, cutoff, dtype)
    if fits_budget(shared + rows * per_row, device):
        return
    fit = (memory_budget(device) - shared) // per_row
    check_fits(shared + rows * per_row, f"{circuit.n_modes} mode(s) at cutoff {cutoff} x B = {rows} "
               f"({'density matrices' if circuit.is_mixed else 'kets'} and gate matrices)", device,
               f"lower the batch ({f'at most {fit} row(s) fit' if fit > 0 else 'not even one row fits'} at this "
               "cutoff) or the cutoff")


def _sizes(circuit: Any, values: list[list[Value]], cutoff: int, dtype: torch.dtype) -> tuple[int, int]:
    """Bytes a run holds for what the batch shares (gate matrices) and per row (states, per-row matrices)."""
    axes = circuit.n_modes * (2 if circuit.is_mixed else 1)
    records_graph = torch.is_grad_enabled() and any(
        isinstance(v, torch.Tensor) and v.requires_grad for vals in values for v in vals)
    copies = STATE_COPIES + (len(circuit.operations) if records_graph else 0)
    per_row = copies * cutoff**axes * torch.empty((), dtype=dtype).element_size()
    shared = 0
    for op, vals in zip(circuit, values):
        if op.spec.build is None:
            continue
        entries = cutoff**4 if op.spec.role == CHANNEL else cutoff ** (op.spec.n_modes * (1 if op.spec.form == DIAGONAL else 2))
        if any(isinstance(v, torch.Tensor) and v.dim() == 1 for v in vals):
            per_row += entries * MATRIX_BYTES_PER_ENTRY
        else:
            shared += entries * MATRIX_BYTES_PER_ENTRY
    return shared, per_row


def _device_of(values: list[list[Value]]) -> torch.device:
    """Where the parameter tensors live (the CPU if none is a tensor): the run follows its inputs."""
    for vals in values:
        for value in vals:
            if isinstance(value, torch.Tensor):
                return value.device
    return torch.device("cpu")


def _checked_cutoff(cutoff: int | None) -> int:
    if cutoff is None:
        return DEFAULT_CUTOFF
    if isinstance(cutoff, bool) or not isinstance(cutoff, int) or cutoff < 1:
        raise InputError(f"cutoff must be a positive integer, got {cutoff!r}")
    return cutoff


def _bind(circuit: Any, params: Mapping[str, ParamValue] | None) -> tuple[list[list[Value]], int, dict]:
    """Each operation's parameter values (floats, 0-d or 1-D tensors), the batch size B and each name's value."""
    try:
        batch = bind_parameters(circuit.parameters, params, circuit.tensor_angles())
    except InputError:
        raise
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    values = [[batch.values[p] if isinstance(p, str) else p for p in op.params] for op in circuit]
    rows = batch.batch_size
    ket_rows = {int(op.data.shape[0]) for op in circuit if op.name == "ket" and op.data.dim() > len(op.modes)}
    if ket_rows:
        per_row_params = any(isinstance(v, torch.Tensor) and v.dim() == 1 for vals in values for v in vals)
        allowed = {rows} if per_row_params else ket_rows
        if len(ket_rows | allowed) > 1:
            raise InputError(f"per-row kets have {sorted(ket_rows)} rows but the batch has {rows}")
        rows = ket_rows.pop()
    for op, vals in zip(circuit, values):
        _check_ranges(op, vals)
    return values, rows, batch.values


def _check_ranges(op: Operation, vals: list[Value]) -> None:
    """Parameters with a physical range: loss transmissivity in [0, 1], thermal nbar >= 0."""
    if op.name not in ("loss", "thermal") or not vals:
        return
    value = torch.as_tensor(vals[0]).detach()
    low, high = (0.0, 1.0) if op.name == "loss" else (0.0, float("inf"))
    if bool(((value < low) | (value > high)).any()):
        what = "transmissivity T in [0, 1]" if op.name == "loss" else "nbar >= 0"
        raise InputError(f"{op.name} on mode {op.modes[0]} needs {what}, got {value.tolist()}")


def _first(vals: list[Value], device: torch.device) -> torch.Tensor | None:
    return _rows_tensor([vals[0]], device) if vals else None


def _rows_tensor(items: list[Value], device: torch.device, rows: list[int] | None = None) -> torch.Tensor:
    """One float64 vector holding each item's rows (floats and 0-d tensors give one row, or ``rows[i]``)."""
    rows = rows or [1] * len(items)
    if all(isinstance(v, float) for v in items) and all(r == 1 for r in rows):
        return torch.tensor(items, dtype=torch.float64, device=device)
    tensors = [v if isinstance(v, torch.Tensor) else torch.tensor(v, dtype=torch.float64) for v in items]
    if all(r == 1 for r in rows) and all(t.dim() == 0 for t in tensors):
        if len({t.dtype for t in tensors}) > 1:
            tensors = [t.to(torch.float64) for t in tensors]
        return torch.stack(tensors).to(dtype=torch.float64, device=device)
    parts = [t.to(dtype=torch.float64, device=device).reshape(-1).expand(count) if t.dim() == 0
             else t.to(dtype=torch.float64, device=device) for t, count in zip(tensors, rows)]
    return torch.cat(parts) if len(parts) > 1 else parts[0]


def _steps(circuit: Any, values: list[list[Value]], batch: int, cutoff: int, dtype: torch.dtype,
           device: torch.device) -> list[Step]:
    """One step per matrix-built operation, each kind's matrices built in a single batched call."""
    groups: dict[str, list[int]] = defaultdict(list)
    for index, op in enumerate(circuit):
        if op.spec.build is not None:
            groups[op.name].append(index)
    tensors: dict[int, torch.Tensor] = {}
    for name, indices in groups.items():
        rows = [batch if any(isinstance(v, torch.Tensor) and v.dim() == 1 for v in values[i]) else 1 for i in indices]
        spec = circuit.operations[indices[0]].spec
        columns = [None if _constant_zero_phase(spec, slot, [values[i][slot] for i in indices])
                   else _rows_tensor([values[i][slot] for i in indices], device, rows)
                   for slot in range(len(spec.param_names))]
        built = spec.build(columns, cutoff, dtype)
        tensors.update(zip(indices, torch.split(built, rows)))
    operations = circuit.operations
    return [Step(_form(operations[i]), operations[i].modes, tensors[i]) for i in sorted(tensors)]


def _constant_zero_phase(spec: Any, slot: int, items: list[Value]) -> bool:
    """A ``phi`` that is the float 0.0 in every instance: the builder can skip the rotation."""
    return (spec.param_names[slot] == "phi" and len(spec.param_names) > 1
            and all(isinstance(v, float) and v == 0.0 for v in items))


def _form(op: Operation) -> str:
    return CHANNEL_FORM if op.spec.role == CHANNEL else op.spec.form


def _apply_step(state: torch.Tensor, step: Step, n_modes: int) -> torch.Tensor:
    """Apply one step to a ket ``[B, c..]`` or a density matrix ``[B, c.., c..]`` (a channel makes it one)."""
    mixed = state.dim() == 1 + 2 * n_modes
    ket_axes = [1 + mode for mode in step.modes]
    if step.form == CHANNEL_FORM:
        state = state if mixed else to_density_matrix(state)
        return apply_operator(state, step.tensor, [ket_axes[0], ket_axes[0] + n_modes])
    apply = apply_diagonal if step.form == "diagonal" else apply_operator
    state = apply(state, step.tensor, ket_axes)
    if mixed:
        state = apply(state, step.tensor.conj(), [axis + n_modes for axis in ket_axes])
    return state
