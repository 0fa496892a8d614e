"""The initial batched state: a product of per-mode (or per-group) factors, vacuum by default."""

from __future__ import annotations

import torch

from qvec.errors import InputError

from .operations import Operation

__all__ = ["initial_state", "to_density_matrix", "STATE_FACTORS"]

STATE_FACTORS = ("vacuum", "fock", "thermal", "ket")


def _basis(n: int, cutoff: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    vector = torch.zeros(1, cutoff, dtype=dtype, device=device)
    vector[0, n] = 1.0
    return vector


def _thermal(nbar: torch.Tensor, cutoff: int, dtype: torch.dtype) -> torch.Tensor:
    """``[Bo, c, c]`` density matrix with ``p(n) = nbar^n / (1 + nbar)^(n + 1)``."""
    ratio = (nbar / (1 + nbar)).unsqueeze(-1)
    powers = torch.cat([torch.ones_like(ratio), torch.cumprod(ratio.expand(-1, cutoff - 1), -1)], -1)
    probs = powers / (1 + nbar).unsqueeze(-1)
    return torch.diag_embed(probs).to(dtype)


def _ket(op: Operation, cutoff: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """The op's amplitudes as ``[Bo, c, ..., c]``, zero-padded from their own cutoff up to ``cutoff``."""
    amplitudes = op.data.to(dtype=dtype, device=device)
    if amplitudes.dim() == len(op.modes):
        amplitudes = amplitudes.unsqueeze(0)
    size = max(amplitudes.shape[1:])
    if size > cutoff or len(set(amplitudes.shape[1:])) != 1:
        raise InputError(f"ket on modes {op.modes} has shape {tuple(op.data.shape)}; each mode axis must have the "
                         f"same size, at most the cutoff {cutoff}")
    pad = [0, cutoff - size] * len(op.modes)
    return torch.nn.functional.pad(amplitudes, pad)


def _factor(op: Operation, value: torch.Tensor | None, cutoff: int, dtype: torch.dtype,
            device: torch.device) -> torch.Tensor:
    if op.name == "fock":
        if op.data >= cutoff:
            raise InputError(f"fock state |{op.data}> on mode {op.modes[0]} needs a cutoff above {op.data}, got {cutoff}")
        return _basis(op.data, cutoff, dtype, device)
    if op.name == "thermal":
        return _thermal(value, cutoff, dtype)
    if op.name == "ket":
        return _ket(op, cutoff, dtype, device)
    return _basis(0, cutoff, dtype, device)


def to_density_matrix(ket: torch.Tensor) -> torch.Tensor:
    """``|psi><psi|`` as ``[B, c.., c..]`` from a ket ``[B, c..]``."""
    k = ket.dim() - 1
    return ket.reshape(ket.shape + (1,) * k) * ket.conj().reshape(ket.shape[:1] + (1,) * k + ket.shape[1:])


def initial_state(n_modes: int, preparations: list[tuple[Operation, torch.Tensor | None]], cutoff: int,
                  dtype: torch.dtype, device: torch.device, mixed: bool) -> torch.Tensor:
    """Product of the factors: a ket ``[Bo, c^M]`` or, if ``mixed``, a density matrix ``[Bo, c^M, c^M]``."""
    factors: dict[int, tuple[tuple[int, ...], torch.Tensor]] = {}
    for op, value in preparations:
        factors[op.modes[0]] = (op.modes, _factor(op, value, cutoff, dtype, device))
    order: list[int] = []
    state: torch.Tensor | None = None
    for mode in range(n_modes):
        if any(mode in modes for modes, _ in factors.values()) and mode not in factors:
            continue
        modes, factor = factors.get(mode, ((mode,), _basis(0, cutoff, dtype, device)))
        is_dm = factor.dim() == 2 * len(modes) + 1
        factor = factor if (is_dm or not mixed) else to_density_matrix(factor)
        state = factor if state is None else _kron(state, factor, cutoff ** len(order), cutoff ** len(modes), mixed)
        order.extend(modes)
    return _in_mode_order(state, order, cutoff, mixed)


def _kron(left: torch.Tensor, right: torch.Tensor, left_size: int, right_size: int, mixed: bool) -> torch.Tensor:
    """Tensor product of two factors (kets, or density matrices if ``mixed``), flattened."""
    rows = max(left.shape[0], right.shape[0])
    if not mixed:
        return (left.reshape(left.shape[0], -1, 1) * right.reshape(right.shape[0], 1, -1)).reshape(rows, -1)
    product = (left.reshape(-1, left_size, 1, left_size, 1) *
               right.reshape(-1, 1, right_size, 1, right_size))
    return product.reshape(rows, left_size * right_size, left_size * right_size)


def _in_mode_order(state: torch.Tensor, order: list[int], cutoff: int, mixed: bool) -> torch.Tensor:
    """Reshape the flat product to one axis per mode (twice if mixed), axes in mode order."""
    m = len(order)
    shape = [state.shape[0]] + [cutoff] * (2 * m if mixed else m)
    state = state.reshape(shape)
    position = [order.index(mode) for mode in range(m)]
    axes = [1 + p for p in position] + ([1 + m + p for p in position] if mixed else [])
    return state.permute(0, *axes) if axes != sorted(axes) else state
