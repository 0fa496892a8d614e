"""The four Gaussian gates at zero phase, from stable recurrences, with their exact derivatives.

``displacement(r)``, ``squeezing(r)``, ``beamsplitter(theta)`` and ``two_mode_squeezing(r)``
are real ``[G, c, c]`` / ``[G, c, c, c, c]`` tensors of one real parameter per row (the phase of
each gate is a rotation applied by ``matrices``). The recurrences (those of The Walrus) build
column after column and only ever read lower Fock indices, so every truncated entry is exact.

Each recurrence runs outside autograd, in numpy on the CPU (tiny arrays: numpy's per-call cost
is a fraction of torch's) or in torch elsewhere, and ``Recurrence.backward`` applies the closed-
form derivative ``dT/dr``, written with creation operators on the output (m, n) and input (p, q)
axes: ``R_x T`` means ``sqrt(x) T[.., x-1, ..]``. A handful of tensor operations replace the
backward pass through c sequential steps.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable

import numpy as np
import torch

from qvec.tensor_cache import tensor_cache

__all__ = ["Recurrence", "gaussian_gate", "RECURRENCES"]


def _lib(array: Any) -> Any:
    return np if isinstance(array, np.ndarray) else torch


@tensor_cache(maxsize=256)
def _sqrt_range(cutoff: int, axis: int, ndim: int, device: str | None) -> Any:
    """``sqrt(1..c-1)`` shaped to broadcast along ``axis`` (numpy if ``device`` is None, else torch)."""
    shape = [1] * ndim
    shape[axis] = cutoff - 1
    values = np.sqrt(np.arange(1, cutoff, dtype=np.float64)).reshape(shape)
    return values if device is None else torch.from_numpy(values).to(device)


@functools.lru_cache(maxsize=64)
def _sqrt_numbers(cutoff: int) -> tuple[float, ...]:
    """``sqrt(n)`` for n < cutoff as Python floats (the recurrences' scalar steps)."""
    return tuple(math.sqrt(n) for n in range(cutoff))


def _raise(array: Any, axis: int) -> Any:
    """a^dagger along ``axis``: ``out[.., m, ..] = sqrt(m) in[.., m - 1, ..]``."""
    cutoff = array.shape[axis]
    out = _lib(array).zeros_like(array)
    head = (slice(None),) * axis
    device = None if isinstance(array, np.ndarray) else str(array.device)
    out[head + (slice(1, None),)] = array[head + (slice(None, -1),)] * _sqrt_range(cutoff, axis, array.ndim, device)
    return out


def _zeros(like: Any, *shape: int) -> Any:
    if isinstance(like, np.ndarray):
        return np.zeros(shape)
    return torch.zeros(shape, dtype=like.dtype, device=like.device)


def _column(value: Any) -> Any:
    return value.reshape(-1, 1)


def _displacement(r: Any, cutoff: int) -> Any:
    """D(r): column 0 is the coherent state, column n = (a^dag - r) column n-1 / sqrt(n)."""
    xp, sqrt = _lib(r), _sqrt_numbers(cutoff)
    column = _zeros(r, r.shape[0], cutoff)
    column[:, 0] = xp.exp(-0.5 * r * r)
    for m in range(1, cutoff):
        column[:, m] = column[:, m - 1] * r / sqrt[m]
    columns = [column]
    for n in range(1, cutoff):
        column = (_raise(column, 1) - _column(r) * column) / sqrt[n]
        columns.append(column)
    return xp.stack(columns, axis=-1)


def _displacement_derivative(r: Any, gate: Any) -> Any:
    return _raise(gate, 1) - r.reshape(-1, 1, 1) * gate - _raise(gate, 2)


def _squeezing(r: Any, cutoff: int) -> Any:
    """S(r): S|n> = (tanh r sqrt(n-1) S|n-2> + sech r a^dag S|n-1>) / sqrt(n); S|0> squeezed vacuum."""
    xp, sqrt = _lib(r), _sqrt_numbers(cutoff)
    tanh, sech = _column(xp.tanh(r)), _column(1.0 / xp.cosh(r))
    column = _zeros(r, r.shape[0], cutoff)
    column[:, 0] = xp.sqrt(sech[:, 0])
    for m in range(2, cutoff, 2):
        column[:, m] = -tanh[:, 0] * column[:, m - 2] * sqrt[m - 1] / sqrt[m]
    columns = [column]
    for n in range(1, cutoff):
        step = sech * _raise(column, 1)
        if n >= 2:
            step = step + sqrt[n - 1] * tanh * columns[n - 2]
        column = step / sqrt[n]
        columns.append(column)
    return xp.stack(columns, axis=-1)


def _squeezing_derivative(r: Any, gate: Any) -> Any:
    xp = _lib(r)
    tanh, sech = xp.tanh(r).reshape(-1, 1, 1), 1.0 / xp.cosh(r).reshape(-1, 1, 1)
    raised_m = _raise(gate, 1)
    return (-0.5 * tanh * gate - sech * tanh * _raise(raised_m, 2)
            + 0.5 * sech**2 * (_raise(_raise(gate, 2), 2) - _raise(raised_m, 1)))


def _beamsplitter(theta: Any, cutoff: int) -> Any:
    """BS(theta, 0) as [G, m, n, p, q]: B a^dag B^dag = t a^dag + s b^dag, B b^dag B^dag = t b^dag - s a^dag."""
    xp, sqrt = _lib(theta), _sqrt_numbers(cutoff)
    t, s = xp.cos(theta).reshape(-1, 1, 1), xp.sin(theta).reshape(-1, 1, 1)
    vacuum = _zeros(theta, theta.shape[0], cutoff, cutoff)
    vacuum[:, 0, 0] = 1.0
    inputs = [vacuum]  # |p, 0> for p = 0..c-1, each [G, m, n]
    for p in range(1, cutoff):
        prev = inputs[-1]
        inputs.append((t * _raise(prev, 1) + s * _raise(prev, 2)) / sqrt[p])
    block = xp.stack(inputs, axis=-1)
    t, s = t.reshape(-1, 1, 1, 1), s.reshape(-1, 1, 1, 1)
    blocks = [block]
    for q in range(1, cutoff):
        block = (t * _raise(block, 2) - s * _raise(block, 1)) / sqrt[q]
        blocks.append(block)
    return xp.stack(blocks, axis=-1)


def _beamsplitter_derivative(theta: Any, gate: Any) -> Any:
    xp = _lib(theta)
    t, s = xp.cos(theta).reshape(-1, 1, 1, 1, 1), xp.sin(theta).reshape(-1, 1, 1, 1, 1)
    raised_m, raised_n = _raise(gate, 1), _raise(gate, 2)
    return _raise(t * raised_n - s * raised_m, 3) - _raise(t * raised_m + s * raised_n, 4)


def _two_mode_squeezing(r: Any, cutoff: int) -> Any:
    """S2(r, 0) as [G, m, n, p, q]; S2|0,0> = sech r sum_n (tanh r)^n |n, n>."""
    xp, sqrt = _lib(r), _sqrt_numbers(cutoff)
    tanh, sech = _column(xp.tanh(r)), _column(1.0 / xp.cosh(r))
    vacuum = _zeros(r, r.shape[0], cutoff, cutoff)
    vacuum[:, 0, 0] = sech[:, 0]
    for n in range(1, cutoff):
        vacuum[:, n, n] = vacuum[:, n - 1, n - 1] * tanh[:, 0]
    sech3 = sech.reshape(-1, 1, 1)
    inputs = [vacuum]
    for p in range(1, cutoff):
        inputs.append(sech3 * _raise(inputs[-1], 1) / sqrt[p])
    block = xp.stack(inputs, axis=-1)
    sech4, tanh4 = sech.reshape(-1, 1, 1, 1), tanh.reshape(-1, 1, 1, 1)
    blocks = [block]
    for q in range(1, cutoff):
        block = (sech4 * _raise(block, 2) - tanh4 * _raise(block, 3)) / sqrt[q]
        blocks.append(block)
    return xp.stack(blocks, axis=-1)


def _two_mode_squeezing_derivative(r: Any, gate: Any) -> Any:
    xp = _lib(r)
    tanh, sech = xp.tanh(r).reshape(-1, 1, 1, 1, 1), 1.0 / xp.cosh(r).reshape(-1, 1, 1, 1, 1)
    raised_m, raised_n = _raise(gate, 1), _raise(gate, 2)
    return (-tanh * gate + sech**2 * (_raise(raised_m, 2) - _raise(_raise(gate, 3), 4))
            - tanh * sech * (_raise(raised_m, 3) + _raise(raised_n, 4)))


Build = Callable[[Any, int], Any]
Derivative = Callable[[Any, Any], Any]
RECURRENCES: dict[str, tuple[Build, Derivative]] = {
    "displacement": (_displacement, _displacement_derivative),
    "squeezing": (_squeezing, _squeezing_derivative),
    "beamsplitter": (_beamsplitter, _beamsplitter_derivative),
    "two_mode_squeezing": (_two_mode_squeezing, _two_mode_squeezing_derivative),
}


def _run(function: Callable[..., Any], tensor: torch.Tensor, *args: Any) -> torch.Tensor:
    """Call an array-agnostic ``function``: through numpy for CPU tensors, in torch elsewhere."""
    if tensor.device.type != "cpu":
        return function(tensor, *args)
    converted = [a.numpy() if isinstance(a, torch.Tensor) else a for a in args]
    return torch.from_numpy(function(tensor.numpy(), *converted))


class Recurrence(torch.autograd.Function):
    """A zero-phase Gaussian gate of a float64 ``[G]`` parameter, with its closed-form derivative."""

    @staticmethod
    def forward(ctx: Any, parameter: torch.Tensor, name: str, cutoff: int) -> torch.Tensor:
        gate = _run(RECURRENCES[name][0], parameter.detach(), cutoff)
        ctx.name = name
        ctx.save_for_backward(parameter, gate)
        return gate

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        parameter, gate = ctx.saved_tensors
        derivative = _run(RECURRENCES[ctx.name][1], parameter, gate)
        return (grad * derivative).reshape(grad.shape[0], -1).sum(-1), None, None


def gaussian_gate(name: str, parameter: torch.Tensor, cutoff: int) -> torch.Tensor:
    """The real zero-phase gate ``name`` for each row of ``parameter`` (any float dtype, computed in float64)."""
    return Recurrence.apply(parameter.to(torch.float64), name, cutoff)

