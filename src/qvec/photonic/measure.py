"""Readouts of a batched Fock state: probabilities, reduced states, ladder moments, P(x).

A state tensor is a ket ``[B, c, ..., c]`` (one axis per mode) or a density matrix
``[B, c.., c..]`` (ket axes then bra axes). Expectations are ``Tr(rho O)`` of the state as it
is, so a truncated (unnormalized) row gives proportionally smaller values, as in Strawberry Fields.
"""

from __future__ import annotations

import functools
import math
import string
from typing import Sequence

import torch

from qvec.sim.memory import check_fits

__all__ = [
    "probabilities", "reduced_density_matrix", "single_mode_moments", "ket_lowering", "marginal",
    "hermite_functions", "quadrature_density", "check_quadrature_density_fits",
]

# Complex copies of the largest contraction a quadrature density holds at once.
DENSITY_COPIES = 3


def _is_pure(tensor: torch.Tensor, n_modes: int) -> bool:
    return tensor.dim() == 1 + n_modes


def probabilities(tensor: torch.Tensor, n_modes: int) -> torch.Tensor:
    """Fock probabilities ``[B, c, ..., c]`` (real), mode 0 the slowest index."""
    if _is_pure(tensor, n_modes):
        return torch.view_as_real(tensor).square().sum(-1)
    batch, cutoff = tensor.shape[0], tensor.shape[1]
    size = cutoff**n_modes
    return tensor.reshape(batch, size, size).diagonal(dim1=1, dim2=2).real.reshape(tensor.shape[:1 + n_modes])


def reduced_density_matrix(tensor: torch.Tensor, n_modes: int, modes: Sequence[int]) -> torch.Tensor:
    """Density matrix of ``modes`` (in that order), the others traced out: ``[B] + [c] * 2k``."""
    k, batch, cutoff = len(modes), tensor.shape[0], tensor.shape[1]
    if _is_pure(tensor, n_modes):
        kept = tensor.movedim(tuple(1 + m for m in modes), tuple(range(1, k + 1))).reshape(batch, cutoff**k, -1)
        return (kept @ kept.conj().transpose(1, 2)).reshape([batch] + [cutoff] * (2 * k))
    return torch.einsum(_partial_trace_subscripts(n_modes, tuple(modes)), tensor)


@functools.lru_cache(maxsize=128)
def _partial_trace_subscripts(n_modes: int, modes: tuple[int, ...]) -> str:
    letters = iter(string.ascii_letters)
    batch = next(letters)
    ket = [next(letters) for _ in range(n_modes)]
    bra = [ket[m] if m not in modes else next(letters) for m in range(n_modes)]
    output = batch + "".join(ket[m] for m in modes) + "".join(bra[m] for m in modes)
    return f"{batch}{''.join(ket)}{''.join(bra)}->{output}"


def single_mode_moments(rho: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(<a>, <a^2>, <n>, Tr rho)`` of single-mode density matrices ``[B, c, c]``."""
    cutoff = rho.shape[-1]
    n = torch.arange(cutoff, dtype=rho.real.dtype, device=rho.device)
    diagonal = rho.diagonal(dim1=1, dim2=2).real
    # Tr(rho a) = sum_n sqrt(n) rho[n, n-1];  Tr(rho a^2) = sum_n sqrt(n (n-1)) rho[n, n-2]
    lower = (rho.diagonal(offset=-1, dim1=1, dim2=2) * n[1:].sqrt()).sum(-1)
    lower2 = (rho.diagonal(offset=-2, dim1=1, dim2=2) * (n[2:] * n[1:-1]).sqrt()).sum(-1) if cutoff > 2 \
        else torch.zeros_like(lower)
    return lower, lower2, (diagonal * n).sum(-1), diagonal.sum(-1)


def _pair_sum(ket: torch.Tensor, axis: int, shift: int) -> torch.Tensor:
    """``sum conj(psi[.., k - shift, ..]) psi[.., k, ..] sqrt(k! / (k - shift)!)`` over all but the batch."""
    cutoff = ket.shape[axis]
    if cutoff <= shift:
        return torch.zeros(ket.shape[0], dtype=ket.dtype, device=ket.device)
    k = torch.arange(shift, cutoff, dtype=ket.real.dtype, device=ket.device)
    weight = k.sqrt() if shift == 1 else (k * (k - 1)).sqrt()
    shape = [1] * ket.dim()
    shape[axis] = cutoff - shift
    product = ket.narrow(axis, shift, cutoff - shift) * ket.narrow(axis, 0, cutoff - shift).conj()
    return (product * weight.reshape(shape)).reshape(ket.shape[0], -1).sum(-1)


def ket_lowering(ket: torch.Tensor, mode: int, power: int) -> torch.Tensor:
    """``<a^power>`` (power 1 or 2) of ``mode`` straight from a ket ``[B, c..]``, no reduced state."""
    return _pair_sum(ket, 1 + mode, power)


def marginal(probs: torch.Tensor, mode: int) -> torch.Tensor:
    """Photon-number distribution ``[B, c]`` of ``mode`` from the joint Fock probabilities."""
    others = [axis for axis in range(1, probs.dim()) if axis != 1 + mode]
    return probs.sum(others) if others else probs


@functools.lru_cache(maxsize=32)
def _hermite_scales(cutoff: int) -> tuple[tuple[float, float], ...]:
    return tuple((math.sqrt(2.0 / n), math.sqrt((n - 1) / n)) for n in range(1, cutoff))


def hermite_functions(x: torch.Tensor, cutoff: int, hbar: float) -> torch.Tensor:
    """``<x|n>`` for n < cutoff on the grid ``x`` as ``[G, c]``, by the stable three-term recurrence."""
    u = x / math.sqrt(hbar)
    previous = torch.zeros_like(u)
    current = math.pi**-0.25 * torch.exp(-0.5 * u * u)
    columns = [current]
    for up, down in _hermite_scales(cutoff):
        previous, current = current, up * u * current - down * previous
        columns.append(current)
    return torch.stack(columns, dim=-1) / hbar**0.25


def _wavefunction_basis(grid: torch.Tensor, cutoff: int, hbar: float, phi: float, dtype: torch.dtype) -> torch.Tensor:
    """``<x_phi|n> = e^{-i n phi} <x|n>`` as ``[G, c]`` complex."""
    h = hermite_functions(grid.to(torch.float64), cutoff, hbar)
    n = torch.arange(cutoff, dtype=torch.float64, device=grid.device)
    return (h * torch.polar(torch.ones_like(n), -phi * n)).to(dtype)


def _contract_axis(tensor: torch.Tensor, basis: torch.Tensor, axis: int) -> torch.Tensor:
    """Replace Fock axis ``axis`` of ``tensor`` by grid points: ``sum_n basis[g, n] tensor[.., n, ..]``."""
    return (tensor.movedim(axis, -1) @ basis.transpose(0, 1)).movedim(-1, axis)


def check_quadrature_density_fits(tensor: torch.Tensor, n_modes: int, n_density_modes: int, points: int) -> None:
    """Refuse, before allocating, a density whose contraction exceeds the memory budget.

    A ket's contraction holds ``[B, G^k, c^(M-k)]`` amplitudes; a density matrix's ``[B, G^k, G^k]``
    (k modes read out on G points): a few copies of it, complex, are held at once.
    """
    batch, cutoff = tensor.shape[0], tensor.shape[1]
    if _is_pure(tensor, n_modes):
        entries = points**n_density_modes * cutoff ** (n_modes - n_density_modes)
    else:
        entries = points ** (2 * n_density_modes)
    needed = DENSITY_COPIES * batch * entries * tensor.element_size()
    check_fits(needed, f"a quadrature density of {n_density_modes} mode(s) on {points} points x B = {batch}",
               tensor.device, "use fewer points or modes, or a smaller batch")


def quadrature_density(tensor: torch.Tensor, n_modes: int, modes: Sequence[int], grid: torch.Tensor, hbar: float,
                       phi: float = 0.0) -> torch.Tensor:
    """Joint density of the ``x_phi`` quadratures of ``modes`` on ``grid``: ``[B] + [G] * k``.

    Differentiable: a contraction with Hermite functions, the readout a CV GAN trains through.
    """
    cutoff = tensor.shape[1]
    basis = _wavefunction_basis(grid, cutoff, hbar, phi, tensor.dtype)
    k = len(modes)
    if _is_pure(tensor, n_modes):
        amplitude = tensor
        for mode in modes:
            amplitude = _contract_axis(amplitude, basis, 1 + mode)
        density = torch.view_as_real(amplitude).square().sum(-1)
        others = [1 + m for m in range(n_modes) if m not in modes]
        density = density.sum(others) if others else density
        return density.movedim(tuple(1 + sorted(modes).index(m) for m in modes), tuple(range(1, k + 1)))
    rho = reduced_density_matrix(tensor, n_modes, modes)
    for axis in range(1, k + 1):
        rho = _contract_axis(rho, basis, axis)
        rho = _contract_axis(rho, basis.conj(), axis + k)
    letters = string.ascii_lowercase[:k + 1]
    return torch.einsum(f"{letters}{letters[1:]}->{letters}", rho).real
