"""A batch cut into shards of parameter rows, and what a worker does with one shard.

This module imports no Dask: it is the part of the Dask backend that runs on the workers, and it
can be tested on its own. A batch becomes a ``Template`` (the circuit, with its tensor angles turned
into named parameters, and the worker-side backend), shipped once to every worker, and a
``ValueLayout`` with a tuple of tensors: the batch's parameter values, per-row ones sliced for each
shard. A worker rebuilds the ``params`` mapping of its rows and calls its backend (``run_shard``), or
runs that forward pass again under autograd and returns the vector-Jacobian product (``vjp_shard``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import torch

from qvec.circuit import Circuit
from qvec.circuit.operation import Operation
from qvec.circuit.parameters import ParameterStack, ParamValue, bind_parameters
from qvec.photonic.circuit import Circuit as PhotonicCircuit

__all__ = ["Call", "ShardOutput", "Template", "ValueLayout", "row_bounds", "run_shard", "split_batch", "vjp_shard"]

Params = Mapping[str, ParamValue] | None
TENSOR_ANGLE_PREFIX = "dask_tensor_angle_"


@dataclass(frozen=True)
class Template:
    """What every worker receives once per batch: the circuit (no tensor angles) and the backend that runs it."""

    circuit: Circuit | PhotonicCircuit
    inner: Any


@dataclass(frozen=True)
class Call:
    """The backend method a shard runs, with its arguments after the circuit (before and after ``params``)."""

    method: str
    before_params: tuple = ()
    options: Mapping[str, Any] = field(default_factory=dict)

    def on(self, template: Template, params: Mapping[str, torch.Tensor]) -> Any:
        return getattr(template.inner, self.method)(template.circuit, *self.before_params, params, **self.options)


@dataclass(frozen=True)
class ValueLayout:
    """How a tuple of value tensors makes a ``params`` mapping: a name (plain) or a group of names (stacked)
    per tensor, and which tensors have one entry per row (axis 0) rather than one shared by the batch."""

    names: tuple[tuple[str, ...], ...]
    per_row: tuple[bool, ...]
    stacked: bool
    batch_size: int

    def params(self, tensors: Sequence[torch.Tensor]) -> Mapping[str, torch.Tensor]:
        """The mapping a backend takes: a ``ParameterStack`` when the caller gave one (the engine gathers
        from its groups), else a dict."""
        if self.stacked:
            return ParameterStack(*zip(self.names, tensors))
        return {names[0]: tensor for names, tensor in zip(self.names, tensors)}

    def shard(self, tensors: Sequence[torch.Tensor], start: int, stop: int) -> tuple[torch.Tensor, ...]:
        """The values of rows ``start:stop``, detached and on the CPU; per-row slices are copied, so that
        pickling one does not ship the whole batch's storage."""
        return tuple(t.detach()[start:stop].cpu().clone() if row else t.detach().cpu()
                     for t, row in zip(tensors, self.per_row))


@dataclass(frozen=True)
class ShardOutput:
    """A worker's result for its rows (on the CPU), what a photonic state needs besides its tensor, and the
    warnings the run gave (a worker's warnings would otherwise never reach the caller)."""

    tensor: torch.Tensor
    state: Mapping[str, Any] | None
    warnings: tuple[tuple[type[Warning], str], ...]


def split_batch(circuit: Circuit | PhotonicCircuit, params: Params) -> tuple[Circuit | PhotonicCircuit, ValueLayout,
                                                                          tuple[torch.Tensor, ...]]:
    """The template circuit, the layout of the values and the value tensors of a batch (checked here, before
    anything is shipped). Tensor angles become parameters named ``dask_tensor_angle_<i>``, so that the
    circuit is the same for every shard and gradients reach them like any value."""
    batch = bind_parameters(circuit.parameters, params, circuit.tensor_angles())
    template, angles = _named_tensor_angles(circuit)
    if isinstance(params, ParameterStack) and batch.stacks:
        groups = [*batch.stacks, *(((name,), t.unsqueeze(1) if t.dim() else t.reshape(1)) for name, t in angles)]
        per_row = tuple(values.dim() == 2 for _, values in groups)
        stacked = True
    else:
        groups = [((name,), value) for name, value in [*batch.values.items(), *angles]]
        per_row = tuple(values.dim() == 1 for _, values in groups)
        stacked = False
    names = tuple(tuple(group_names) for group_names, _ in groups)
    layout = ValueLayout(names, per_row, stacked, batch.batch_size)
    return template, layout, tuple(values for _, values in groups)


def _named_tensor_angles(circuit: Circuit | PhotonicCircuit) -> tuple[Circuit | PhotonicCircuit,
                                                                      list[tuple[str, torch.Tensor]]]:
    """``circuit`` with each distinct tensor angle replaced by a fresh parameter name, and (name, tensor) pairs."""
    tensors = circuit.tensor_angles()
    if not tensors:
        return circuit, []
    taken = set(circuit.parameters)
    names: dict[int, str] = {}
    for tensor in tensors:
        if id(tensor) not in names:
            name = f"{TENSOR_ANGLE_PREFIX}{len(names)}"
            while name in taken:
                name = f"_{name}"
            names[id(tensor)] = name

    def named(angle: Any) -> Any:
        return names[id(angle)] if isinstance(angle, torch.Tensor) else angle

    angles = list({names[id(t)]: t for t in tensors}.items())
    if isinstance(circuit, Circuit):
        return Circuit(circuit.n_qubits, [Operation(op.gate, op.wires, tuple(map(named, op.angles)))
                                          for op in circuit]), angles
    renamed = PhotonicCircuit(circuit.n_modes, circuit.hbar)
    for op in circuit:
        renamed.append(op.name, op.modes, tuple(map(named, op.params)), op.data)
    return renamed, angles


def row_bounds(batch_size: int, shard_size: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of each shard, in row order."""
    return [(start, min(start + shard_size, batch_size)) for start in range(0, batch_size, shard_size)]


def run_shard(template: Template, call: Call, layout: ValueLayout, tensors: tuple[torch.Tensor, ...]) -> ShardOutput:
    """Run one shard on this worker's backend, without gradients; the result comes back on the CPU."""
    with torch.no_grad(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call.on(template, layout.params(tensors))
    tensor, state = _tensor_of(result)
    return ShardOutput(tensor.detach().cpu(), state, tuple((w.category, str(w.message)) for w in caught))


def vjp_shard(template: Template, call: Call, layout: ValueLayout, tensors: tuple[torch.Tensor, ...],
              needs_grad: tuple[bool, ...], grad_output: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
    """Run one shard forward under autograd and return ``grad_output``'s vector-Jacobian product with each value
    tensor that needs a gradient (``None`` for the others, and for values the result does not depend on)."""
    leaves = tuple(t.detach().requires_grad_(need) for t, need in zip(tensors, needs_grad))
    wanted = [leaf for leaf in leaves if leaf.requires_grad]
    with torch.enable_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the forward pass already reported them
        tensor, _ = _tensor_of(call.on(template, layout.params(leaves)))
        grads = iter(torch.autograd.grad(tensor, wanted, grad_output.to(tensor), allow_unused=True))
    return tuple((None if (g := next(grads)) is None else g.detach().cpu()) if need else None for need in needs_grad)


def _tensor_of(result: Any) -> tuple[torch.Tensor, Mapping[str, Any] | None]:
    """A qubit result is a tensor; a photonic ``FockState`` is its tensor and what rebuilds it around that tensor."""
    if isinstance(result, torch.Tensor):
        return result, None
    return result.tensor, {"n_modes": result.n_modes, "cutoff": result.cutoff, "pure": result.is_pure,
                           "hbar": result.hbar}
