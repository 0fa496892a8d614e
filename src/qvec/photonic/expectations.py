"""Expectation values ``<psi|H_k|psi>`` of a batch of kets as one autograd node.

``<x_phi>`` and ``<n>`` of a mode are read from a ket as ``Re <psi|H psi>`` with ``H`` Hermitian and
sparse (a weight on one axis, or a shift of one axis; one ``c x c`` matrix per form, one product per mode
read), so the gradient with respect to the ket is ``2 sum_k g_k H_k psi``: the ``H_k psi`` computed in the
forward pass are all the backward needs. At
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

__all__ = ["Form", "applied", "expectations", "pulled_back", "quadratic_forms", "read"]

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
def _matrices(forms: tuple[Form, ...], cutoff: int, dtype: np.dtype) -> tuple[tuple[int, np.ndarray], ...]:
    """Per mode read, its forms' ``c x c`` matrices ``[K_m, 1, c, c]`` (``n``: diagonal; ``x_phi``: ``scale (e^{-i phi}
    a + e^{i phi} a^dag)``, two off-diagonals); the modes in the order they are first read."""
    root = np.sqrt(np.arange(1, cutoff, dtype=np.float64))
    by_mode: dict[int, list[np.ndarray]] = {}
    for form in forms:
        if form.phi is None:
            matrix = np.diag(np.arange(cutoff, dtype=np.float64)).astype(dtype)
        else:
            turn = math.sqrt(2 * form.hbar) / 2 * complex(math.cos(form.phi), -math.sin(form.phi))
            matrix = (np.diag(turn * root, 1) + np.diag(turn.conjugate() * root, -1)).astype(dtype)
        by_mode.setdefault(form.mode, []).append(matrix)
    return tuple((mode, np.stack(matrices)[:, None]) for mode, matrices in by_mode.items())


@functools.lru_cache(maxsize=64)
def _order(forms: tuple[Form, ...]) -> np.ndarray | None:
    """Where each form's result sits among the per-mode results (None when they are already in order)."""
    grouped = sorted(range(len(forms)), key=lambda k: list(dict.fromkeys(f.mode for f in forms)).index(forms[k].mode))
    order = np.argsort(grouped)
    return None if (order == np.arange(len(forms))).all() else order


def applied(forms: Sequence[Form], ket: np.ndarray, first: int) -> np.ndarray:
    """``H_k psi`` for each form ``[K, *ket.shape]``, mode ``m`` being axis ``first + m`` of ``ket``: one product per
    mode read (its forms' matrices stacked)."""
    forms = tuple(forms)
    parts = []
    for mode, matrices in _matrices(forms, ket.shape[first], ket.dtype):
        axis = first + mode
        seen = ket.reshape(math.prod(ket.shape[:axis]), ket.shape[axis], -1)
        parts.append(np.matmul(matrices, seen).reshape((matrices.shape[0],) + ket.shape))
    out = parts[0] if len(parts) == 1 else np.concatenate(parts)
    order = _order(forms)
    return out if order is None else out[order]


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
