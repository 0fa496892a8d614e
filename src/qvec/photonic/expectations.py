"""Expectation values ``<psi|H_k|psi>`` of a batch of kets as one autograd node.

``<x_phi>`` and ``<n>`` of a mode are read from a ket as ``Re <psi|H psi>`` with ``H`` Hermitian and
sparse (a weight on one axis, or a shift of one axis), so the gradient with respect to the ket is
``2 sum_k g_k H_k psi``: the ``H_k psi`` computed in the forward pass are all the backward needs. At
small batches this replaces the readouts' dozens of small autograd operations with one node, computed in
numpy (a few microseconds an operation on tiny arrays, against torch's tens). The adjoint engine reads the
same forms from its own ket (``applied``, ``quadratic_forms``), inside its one node.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import torch

if TYPE_CHECKING:
    from .state import FockState

__all__ = ["Form", "applied", "expectations", "quadratic_forms", "read"]

# Up to this many amplitudes (B = 128 at 2 modes, cutoff 8) the readouts of a CPU ket are one autograd node: a
# layer step was 1.34x / 1.12x faster with it at B = 32 / 128, 0.95x / 1.00x at 512 / 1,024 (alternating in one
# process, load ~2), where each form's own torch operations are kept.
NODE_AMPLITUDES = 8192


@dataclass(frozen=True)
class Form:
    """``H`` of one readout: ``n`` on ``mode`` (``phi`` None), or ``x_phi`` on ``mode`` with ``hbar``."""

    mode: int
    phi: float | None = None
    hbar: float = 2.0


@functools.lru_cache(maxsize=64)
def _weights(cutoff: int, axis: int, ndim: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` and ``sqrt(n)`` (n >= 1) shaped to broadcast along ``axis`` of a ket with ``ndim`` axes."""
    shape = [1] * ndim
    shape[axis] = cutoff
    n = np.arange(cutoff, dtype=np.float64).reshape(shape)
    return n, np.sqrt(n.take(range(1, cutoff), axis=axis))


def _apply(form: Form, ket: np.ndarray, axis: int) -> np.ndarray:
    """``H psi`` for a ket whose form's mode is ``axis``: ``n`` weights the axis; ``x_phi`` shifts it both ways."""
    cutoff = ket.shape[axis]
    n, root = _weights(cutoff, axis, ket.ndim)
    if form.phi is None:
        return ket * n.astype(ket.real.dtype)
    scale = math.sqrt(2 * form.hbar) / 2
    turn = scale * complex(math.cos(form.phi), -math.sin(form.phi))  # scale e^{-i phi}
    out = np.zeros_like(ket)
    head = [slice(None)] * ket.ndim
    tail = list(head)
    head[axis], tail[axis] = slice(0, cutoff - 1), slice(1, cutoff)
    lowered = ket[tuple(tail)] * root  # (a psi)[k] = sqrt(k+1) psi[k+1]
    out[tuple(head)] += (turn * lowered).astype(ket.dtype)
    out[tuple(tail)] += (turn.conjugate() * ket[tuple(head)] * root).astype(ket.dtype)  # (a^dag psi)[k+1]
    return out


def applied(forms: Sequence[Form], ket: np.ndarray, first: int) -> np.ndarray:
    """``H_k psi`` for each form ``[K, *ket.shape]``, mode ``m`` being axis ``first + m`` of ``ket``."""
    return np.stack([_apply(form, ket, first + form.mode) for form in forms])


def quadratic_forms(ket: np.ndarray, hpsi: np.ndarray, rows_axis: int) -> np.ndarray:
    """``Re <psi|H_k psi>`` ``[B, K]`` from ``applied``'s ``hpsi``, the rows on ``rows_axis`` (0 or -1) of ``ket``."""
    rows, count = ket.shape[rows_axis], hpsi.shape[0]
    if rows_axis == 0:
        return (hpsi.reshape(count, rows, -1) * ket.conj().reshape(1, rows, -1)).sum(-1).real.T
    return (hpsi.reshape(count, -1, rows) * ket.conj().reshape(1, -1, rows)).sum(1).real.T


class _Expectations(torch.autograd.Function):
    """``[B, K]`` real expectations of a CPU ket ``[B, c..]``; backward ``2 sum_k g_k H_k psi``."""

    @staticmethod
    def forward(ctx: Any, ket: torch.Tensor, forms: tuple[Form, ...]) -> torch.Tensor:
        psi = ket.detach().resolve_conj().numpy()
        hpsi = applied(forms, psi, 1)  # [K, B, c..]
        ctx.applied = hpsi
        return torch.from_numpy(np.ascontiguousarray(quadratic_forms(psi, hpsi, 0)))

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return torch.from_numpy(pulled_back(grad.detach().numpy(), ctx.applied, 0)), None


def pulled_back(grad: np.ndarray, hpsi: np.ndarray, rows_axis: int) -> np.ndarray:
    """The ket's gradient ``2 sum_k g_k H_k psi`` from the readouts' ``grad`` ``[B, K]``; ``hpsi`` is ``applied``'s,
    the rows on ``rows_axis`` (0 or -1) of the ket."""
    weights = 2 * grad.T.astype(hpsi.real.dtype)  # [K, B]
    middle = (1,) * (hpsi.ndim - 2)
    shape = (weights.shape[0],) + ((-1,) + middle if rows_axis == 0 else middle + (-1,))
    return (weights.reshape(shape) * hpsi).sum(0)


def expectations(ket: torch.Tensor, forms: Sequence[Form]) -> torch.Tensor:
    """``Re <psi|H_k|psi>`` for each form, ``[B, K]``, as one autograd node (``ket`` a CPU ket ``[B, c..]``)."""
    return _Expectations.apply(ket, tuple(forms))


def read(state: FockState, forms: Sequence[Form]) -> torch.Tensor:
    """The forms' readouts ``[B, K]`` of ``state``: one node for a small CPU ket, else each form's own torch read."""
    tensor = state.tensor
    if state.is_pure and tensor.device.type == "cpu" and tensor.numel() <= NODE_AMPLITUDES:
        return expectations(tensor, forms)
    return torch.stack([state.mean_photon(form.mode) if form.phi is None else state.quad_expectation(form.mode, form.phi)
                        for form in forms], -1)
