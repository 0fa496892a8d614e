"""Adjoint differentiation of expectation values: one autograd node for the whole batch.

Forward runs the engine once without a graph and keeps the final states ``psi [B, 2**n]``. Backward
folds the incoming gradient ``g [B, K]`` into one co-state per row, ``lambda = sum_k g[b, k] O_k psi``,
and walks the circuit backwards, undoing one segment of gates at a time on ``psi`` and ``lambda``
together. For a gate ``U`` with angle ``theta``, at the point just after it,
``dE/dtheta = 2 Re <lambda| dU/dtheta U^dagger |psi>``: only the reduced matrix of the gate's wires,
``M[r, c] = sum conj(lambda[r, rest]) psi[c, rest]``, is needed, and ``dU/dtheta`` is built exactly by
forward-mode autodiff of the gate's own matrix builder (so u, p and the controlled rotations need no
rule). Memory is a few ``[B, 2**n]`` states whatever the depth; every kernel call serves all B rows
(PennyLane and Lightning split a broadcast batch into single circuits for adjoint).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import torch
import torch.autograd.forward_ad as forward_ad

from qvec.circuit import Circuit
from qvec.circuit.gates import GateDefinition, gate_definition
from qvec.circuit.observables import Observable, ObservableTerms, expand_observables
from qvec.circuit.parameters import ParamValue
from qvec.errors import InputError
from qvec.sim import simulate
from qvec.sim.apply import apply_block, apply_gate
from qvec.sim.measure import observable_expectations
from qvec.sim.memory import allocation_failures_as_errors, check_fits, resolve_device
from qvec.sim.simulate import real_dtype

from .unroll import UnrolledBatch, unroll

__all__ = ["adjoint_expval"]

# States alive at once in a backward pass, in units of [B, 2**n]: the saved psi, the (psi, lambda) pair,
# the pair after a segment is undone, the two copies a reduced matrix reads, and the co-state's temporaries.
ADJOINT_STATE_COPIES = 8


@dataclass(frozen=True)
class _Gate:
    """One op of the unrolled circuit: its definition, wires, and per angle a column of the rows or a constant."""

    definition: GateDefinition
    wires: tuple[int, ...]
    angles: tuple[int | float, ...]


def adjoint_expval(circuit: Circuit, observables: Observable | Sequence[Observable],
                   params: Mapping[str, ParamValue] | None, *, dtype: torch.dtype = torch.complex128,
                   device: Any = None) -> torch.Tensor:
    """Expectation values ``[B, K]`` on the local simulator whose gradients come from adjoint differentiation.

    Differentiable inputs: tensors in ``params`` that require grad (shape ``[]``, shared by the batch: its
    gradient sums the rows; or ``[B]``) and tensor angles of ``circuit`` that require grad. A parameter used
    by several gates gets the sum over its occurrences; a ``ScaledParameter`` contributes its scale.
    """
    if not isinstance(circuit, Circuit):
        raise InputError(f"adjoint differentiation takes a qubit Circuit, got {type(circuit).__name__}")
    real_dtype(dtype)
    terms = expand_observables(observables, circuit.n_qubits)
    batch = unroll(circuit, params)
    device = resolve_device(device)
    if not (torch.is_grad_enabled() and batch.inputs):
        with torch.no_grad():
            return _forward(circuit, params, terms, dtype, device)[0]
    states = ADJOINT_STATE_COPIES * batch.batch_size * 2**circuit.n_qubits
    check_fits(states * torch.empty((), dtype=dtype).element_size(),
               f"adjoint differentiation of {circuit.n_qubits} qubits x B = {batch.batch_size} (about "
               f"{ADJOINT_STATE_COPIES} states per row)", device, "lower the batch or use fewer qubits")
    run = _AdjointRun(circuit, params, terms, batch, dtype, device)
    return _AdjointExpval.apply(run, *batch.inputs)


def _forward(circuit: Circuit, params: Mapping[str, ParamValue] | None, terms: ObservableTerms, dtype: torch.dtype,
             device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Values ``[B, K]`` and the final states ``[B, 2**n]``, by the engine's fused forward pass."""
    states = simulate(circuit, params, dtype=dtype, device=device)
    return observable_expectations(states, terms, circuit.n_qubits), states


@dataclass(frozen=True)
class _AdjointRun:
    """What the autograd node needs besides its tensor inputs."""

    circuit: Circuit
    params: Mapping[str, ParamValue] | None
    terms: ObservableTerms
    batch: UnrolledBatch
    dtype: torch.dtype
    device: torch.device


class _AdjointExpval(torch.autograd.Function):
    """Values of the run's observables; backward is the adjoint sweep over the saved final states."""

    @staticmethod
    def forward(ctx, run: _AdjointRun, *inputs: torch.Tensor) -> torch.Tensor:
        values, states = _forward(run.circuit, run.params, run.terms, run.dtype, run.device)
        ctx.run = run
        ctx.save_for_backward(states)
        ctx.inputs_meta = [(x.shape, x.dtype, x.device) for x in inputs]
        return values

    @staticmethod
    def backward(ctx, grad_values: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        if torch.is_grad_enabled():  # create_graph=True: the sweep is not differentiable, so these would be wrong
            raise InputError("adjoint differentiation gives first derivatives only; for higher derivatives "
                             "(create_graph=True) use diff_method='backprop'")
        run: _AdjointRun = ctx.run
        (states,) = ctx.saved_tensors
        with allocation_failures_as_errors(f"adjoint backward of {run.circuit.n_qubits} qubits x B = "
                                           f"{run.batch.batch_size}"):
            column_grads = _sweep(run, states, grad_values)
        per_input = column_grads.to(torch.float64) @ run.batch.input_map.to(column_grads.device)
        grads = [(g.sum() if len(shape) == 0 else g.reshape(shape)).to(dtype=dtype, device=device)
                 for g, (shape, dtype, device) in zip(per_input.T, ctx.inputs_meta)]
        return (None, *grads)


def _sweep(run: _AdjointRun, states: torch.Tensor, grad_values: torch.Tensor) -> torch.Tensor:
    """``d(sum g * values)/d(column)`` for every column of the unrolled batch: ``[B, M]``."""
    batch, n_qubits = run.batch, run.circuit.n_qubits
    real = real_dtype(run.dtype)
    rows = batch.rows.to(device=run.device, dtype=real)
    shared = (rows == rows[:1]).all(dim=0).tolist()
    wanted = set(batch.differentiable_columns())
    grads = torch.zeros_like(rows)
    pair = torch.cat([states, _costate(states, run.terms, n_qubits, grad_values)])
    size = batch.batch_size
    for segment in reversed(_segments(batch)):
        matrices, derivatives = zip(*(_matrix_and_derivatives(gate, rows, shared, wanted, real) for gate in segment))
        if any(derivatives):
            reduced = _reduced(pair[size:], pair[:size], segment[0].wires, n_qubits)
            for column, generator in _generators(matrices, derivatives, segment):
                grads[:, column] += 2 * (generator * reduced).sum(dim=(-2, -1)).real
        pair = _undo(pair, _product(matrices), segment[0].wires, n_qubits)
    return grads


def _costate(states: torch.Tensor, terms: ObservableTerms, n_qubits: int, grad_values: torch.Tensor) -> torch.Tensor:
    """``sum_k g[b, k] O_k psi_b`` for every row.

    For a real ``L = <psi|H|psi>`` torch's gradient with respect to ``psi`` is ``2 dL/d conj(psi) = 2 H psi``,
    so the engine's own readout, differentiated, applies the weighted observables (every Pauli string once).
    """
    with torch.enable_grad():
        leaf = states.detach().requires_grad_()
        values = observable_expectations(leaf, terms, n_qubits)
        (gradient,) = torch.autograd.grad(values, leaf, grad_values.to(dtype=values.dtype, device=values.device))
    return gradient / 2


def _segments(batch: UnrolledBatch) -> list[list[_Gate]]:
    """The unrolled circuit's ops, consecutive ops on the same wires grouped: one state pass per group."""
    column = {name: index for index, name in enumerate(batch.names)}
    segments: list[list[_Gate]] = []
    for op in batch.circuit:
        gate = _Gate(gate_definition(op.gate), op.wires,
                     tuple(column[a] if isinstance(a, str) else a for a in op.angles))
        if segments and segments[-1][0].wires == gate.wires:
            segments[-1].append(gate)
        else:
            segments.append([gate])
    return segments


def _angles(gate: _Gate, rows: torch.Tensor, shared: list[bool]) -> torch.Tensor:
    """The gate's angles: ``[p]`` when every row has the same, else ``[B, p]``."""
    per_row = not all(isinstance(a, float) or shared[a] for a in gate.angles)
    values = rows if per_row else rows[0]
    return torch.stack([values[..., a] if isinstance(a, int) else torch.full_like(values[..., 0], a)
                        for a in gate.angles], -1)


def _matrix_and_derivatives(gate: _Gate, rows: torch.Tensor, shared: list[bool], wanted: set[int],
                            real: torch.dtype) -> tuple[torch.Tensor, list[tuple[int, torch.Tensor]]]:
    """The gate's matrix and ``(column, dU/d angle)`` for each wanted angle, exact by forward-mode autodiff."""
    angles = _angles(gate, rows, shared) if gate.angles else torch.zeros(0, dtype=real, device=rows.device)
    derivatives = []
    for position, column in enumerate(gate.angles):
        if isinstance(column, int) and column in wanted:
            tangent = torch.zeros_like(angles)
            tangent[..., position] = 1
            with forward_ad.dual_level():
                unpacked = forward_ad.unpack_dual(gate.definition.build(forward_ad.make_dual(angles, tangent)))
            derivatives.append((column, unpacked.tangent))
    return gate.definition.build(angles), derivatives


def _generators(matrices: Sequence[torch.Tensor], derivatives: Sequence[list[tuple[int, torch.Tensor]]],
                segment: list[_Gate]) -> list[tuple[int, torch.Tensor]]:
    """For each wanted angle of the segment, ``S dU U^dagger S^dagger`` with ``S`` the gates after it in the segment.

    With ``(lambda, psi)`` taken after the segment, ``<lambda| that |psi>`` is the angle's derivative.
    """
    dimension = segment[0].definition.dimension
    after = torch.eye(dimension, dtype=matrices[0].dtype, device=matrices[0].device)
    result = []
    for matrix, gate_derivatives in zip(reversed(matrices), reversed(derivatives)):
        for column, derivative in gate_derivatives:
            result.append((column, after @ derivative @ matrix.mH @ after.mH))
        after = after @ matrix
    return result


def _product(matrices: Sequence[torch.Tensor]) -> torch.Tensor:
    """The segment's matrix, later gates on the left."""
    product = matrices[0]
    for matrix in matrices[1:]:
        product = matrix @ product
    return product


def _reduced(costates: torch.Tensor, states: torch.Tensor, wires: tuple[int, ...], n_qubits: int) -> torch.Tensor:
    """``M[b, r, c] = sum_rest conj(costate[b, r, rest]) state[b, c, rest]`` on ``wires`` (``wires[0]`` most significant)."""
    rows, k = states.shape[0], len(wires)
    axes = [n_qubits - w for w in wires]
    last = list(range(n_qubits + 1 - k, n_qubits + 1))

    def moved(tensor: torch.Tensor) -> torch.Tensor:
        return tensor.reshape(rows, *([2] * n_qubits)).movedim(axes, last).reshape(rows, -1, 2**k)

    return moved(costates).conj().mT @ moved(states)


def _undo(pair: torch.Tensor, matrix: torch.Tensor, wires: tuple[int, ...], n_qubits: int) -> torch.Tensor:
    """Apply ``matrix^dagger`` to the stacked (states, co-states); a per-row matrix serves both halves."""
    inverse = matrix.mH
    if inverse.dim() == 3:
        inverse = inverse.repeat(2, 1, 1)
    if len(wires) == 1:
        return apply_block(pair, inverse, wires[0], 1)
    return apply_gate(pair, inverse, wires, n_qubits)
