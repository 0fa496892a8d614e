"""Fock-space matrices of CV gates, batched over parameter rows, from stable recurrences.

Every builder takes real parameter tensors of shape ``[G]`` (one row per gate instance; a phase
``phi=None`` stands for a constant zero, which skips the rotation entirely) and
returns complex matrices with a leading ``[G]`` axis: ``[G, c, c]`` for one mode (row index =
output photon number), ``[G, c, c, c, c]`` for two modes (output m, n then input p, q).

Why recurrences (in ``recurrences``): a matrix exponential of truncated ladder operators is
wrong near the cutoff, and closed-form sums cancel catastrophically at large cutoffs. The phase
of each gate is pulled out as a rotation, ``G(r, phi) = R(.) G(r, 0) R(.)^dagger``, so the
recurrences run in real arithmetic, always in float64: they lose about four digits by cutoff 30,
which float32 cannot spare, and float64 costs nothing extra on tensors this small.

Conventions are Strawberry Fields' (hbar-free here): ``D(alpha) = exp(alpha a^dag - alpha^* a)``,
``S(z) = exp((z^* a^2 - z a^dag^2) / 2)``, ``BS(theta, phi) = exp(theta (e^{i phi} a b^dag -
e^{-i phi} a^dag b))``, ``S2(z) = exp(z a^dag b^dag - z^* a b)``, ``R(phi) = exp(i phi n)``,
``K(kappa) = exp(i kappa n^2)``, ``CK(kappa) = exp(i kappa n_1 n_2)``.
"""

from __future__ import annotations

import math

import torch

from qvec.tensor_cache import tensor_cache

from .recurrences import gaussian_gate

__all__ = [
    "displacement", "squeezing", "rotation", "kerr", "beamsplitter", "mach_zehnder",
    "two_mode_squeezing", "cross_kerr", "loss_superoperator",
]


@tensor_cache(maxsize=64)
def _number_range(cutoff: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    return torch.arange(cutoff, dtype=dtype, device=device)


def _powers(x: torch.Tensor, count: int) -> torch.Tensor:
    """``[G, count]`` table of ``x**k`` for k = 0..count-1 (cumprod keeps gradients finite at x = 0)."""
    ones = torch.ones_like(x).unsqueeze(-1)
    if count == 1:
        return ones
    return torch.cat([ones, torch.cumprod(x.unsqueeze(-1).expand(*x.shape, count - 1), dim=-1)], dim=-1)


def _phase(angle: torch.Tensor, exponent: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``exp(i angle * exponent)`` with ``angle`` of shape [G] broadcast against ``exponent``."""
    theta = angle.reshape(angle.shape + (1,) * exponent.dim()) * exponent
    return torch.exp(1j * theta).to(dtype)


def _rotated(gate: torch.Tensor, phi: torch.Tensor | None, exponent: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """A zero-phase gate turned by its phase; ``phi=None`` means a constant zero phase (nothing to do)."""
    gate = gate.to(dtype)
    return gate if phi is None else gate * _phase(phi, exponent, dtype)


@tensor_cache(maxsize=64)
def _exponent(cutoff: int, pattern: str, device: torch.device) -> torch.Tensor:
    """Photon-number difference ``out - in`` that a gate's phase multiplies, on its index grid.

    ``"m-n"``: one-mode gates ``[m, n]``; ``"n-q"`` and ``"m-p"``: two-mode gates ``[m, n, p, q]``.
    """
    n = torch.arange(cutoff, dtype=torch.float64, device=device)
    if pattern == "m-n":
        return n[:, None] - n[None, :]
    grid = torch.meshgrid(n, n, n, n, indexing="ij")
    out, into = ("mnpq".index(pattern[0]), "mnpq".index(pattern[2]))
    return grid[out] - grid[into]


def displacement(r: torch.Tensor, phi: torch.Tensor | None, cutoff: int, dtype: torch.dtype) -> torch.Tensor:
    """D(r e^{i phi}) as ``[G, c, c]``: ``D(alpha) = R(phi) D(r) R(-phi)``."""
    return _rotated(gaussian_gate("displacement", r, cutoff), phi, _exponent(cutoff, "m-n", r.device), dtype)


def squeezing(r: torch.Tensor, phi: torch.Tensor | None, cutoff: int, dtype: torch.dtype) -> torch.Tensor:
    """S(r e^{i phi}) as ``[G, c, c]``: ``S(r, phi) = R(phi/2) S(r, 0) R(-phi/2)``."""
    half = None if phi is None else phi / 2
    return _rotated(gaussian_gate("squeezing", r, cutoff), half, _exponent(cutoff, "m-n", r.device), dtype)


def rotation(phi: torch.Tensor, cutoff: int, dtype: torch.dtype) -> torch.Tensor:
    """Diagonal of R(phi) = exp(i phi n) as ``[G, c]``."""
    return _phase(phi, _number_range(cutoff, phi.dtype, phi.device), dtype)


def kerr(kappa: torch.Tensor, cutoff: int, dtype: torch.dtype) -> torch.Tensor:
    """Diagonal of K(kappa) = exp(i kappa n^2) as ``[G, c]``."""
    return _phase(kappa, _number_range(cutoff, kappa.dtype, kappa.device) ** 2, dtype)


def cross_kerr(kappa: torch.Tensor, cutoff: int, dtype: torch.dtype) -> torch.Tensor:
    """Diagonal of CK(kappa) = exp(i kappa n_1 n_2) as ``[G, c, c]``."""
    n = _number_range(cutoff, kappa.dtype, kappa.device)
    return _phase(kappa, n[:, None] * n[None, :], dtype)


def beamsplitter(theta: torch.Tensor, phi: torch.Tensor | None, cutoff: int, dtype: torch.dtype) -> torch.Tensor:
    """BS(theta, phi) as ``[G, c, c, c, c]``: ``BS(theta, phi) = R_2(phi) BS(theta, 0) R_2(-phi)``."""
    return _rotated(gaussian_gate("beamsplitter", theta, cutoff), phi, _exponent(cutoff, "n-q", theta.device), dtype)


@tensor_cache(maxsize=16)
def _symmetric_beamsplitter(cutoff: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """BS(pi/4, pi/2) as a ``[c^2, c^2]`` matrix, the fixed half of a Mach-Zehnder."""
    theta = torch.full((1,), math.pi / 4, dtype=torch.float64, device=device)
    phi = torch.full((1,), math.pi / 2, dtype=torch.float64, device=device)
    return beamsplitter(theta, phi, cutoff, torch.complex128)[0].reshape(cutoff**2, cutoff**2).to(dtype)


def mach_zehnder(phi_in: torch.Tensor, phi_ex: torch.Tensor, cutoff: int, dtype: torch.dtype) -> torch.Tensor:
    """MZ(phi_in, phi_ex) = BS(pi/4, pi/2) R_1(phi_in) BS(pi/4, pi/2) R_1(phi_ex), as SF defines it."""
    half = _symmetric_beamsplitter(cutoff, dtype, phi_in.device)
    n = _number_range(cutoff, phi_in.dtype, phi_in.device)
    ones = torch.ones(cutoff, dtype=phi_in.dtype, device=phi_in.device)
    first_mode = (n[:, None] * ones[None, :]).reshape(-1)
    inner = _phase(phi_in, first_mode, dtype).unsqueeze(-1)  # [G, c^2, 1] row scaling
    outer = _phase(phi_ex, first_mode, dtype).unsqueeze(-2)  # [G, 1, c^2] column scaling
    matrix = half @ (inner * half) * outer
    return matrix.reshape(-1, cutoff, cutoff, cutoff, cutoff)


def two_mode_squeezing(r: torch.Tensor, phi: torch.Tensor | None, cutoff: int, dtype: torch.dtype) -> torch.Tensor:
    """S2(r e^{i phi}) as ``[G, c, c, c, c]``: ``S2(r, phi) = R_1(phi) S2(r, 0) R_1(-phi)``."""
    return _rotated(gaussian_gate("two_mode_squeezing", r, cutoff), phi, _exponent(cutoff, "m-p", r.device), dtype)


@tensor_cache(maxsize=16)
def _loss_pattern(cutoff: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``[k, m, n]`` tensor ``sqrt(C(n, k)) [n == m + k]``: where Kraus operator k sends |n> to |m>."""
    k, m, n = torch.meshgrid(*(torch.arange(cutoff, dtype=torch.float64),) * 3, indexing="ij")
    hit = n == m + k
    log_binomial = torch.lgamma(n + 1) - torch.lgamma(k + 1) - torch.lgamma((n - k).clamp_min(0) + 1)
    return torch.where(hit, (0.5 * log_binomial).exp(), torch.zeros_like(log_binomial)).to(dtype=dtype, device=device)


# The channel at T = 0 is evaluated at this T instead: its square root's slope is finite there, so
# gradients are the one-sided ones (a readout of slope 0 at T = 0 gets 0, not 0 * inf = NaN), and
# values move by sqrt(TINY_TRANSMISSIVITY) ~ 1e-154, far below float64 resolution.
TINY_TRANSMISSIVITY = torch.finfo(torch.float64).tiny


def _off_zero(x: torch.Tensor) -> torch.Tensor:
    """``x`` with zeros raised to ``TINY_TRANSMISSIVITY`` in value only: its gradient passes unchanged."""
    return x + (x.detach().clamp_min(TINY_TRANSMISSIVITY) - x.detach())


def _half_powers(x: torch.Tensor, count: int) -> torch.Tensor:
    """``[G, count]`` table of ``x**(e/2)`` for e = 0..count-1: integer powers times ``sqrt(x)`` for odd e."""
    whole = _powers(x, (count + 1) // 2)
    odd = x.sqrt().unsqueeze(-1) * whole
    return torch.stack([whole, odd], dim=-1).flatten(-2)[..., :count]


def loss_superoperator(transmissivity: torch.Tensor, cutoff: int, dtype: torch.dtype) -> torch.Tensor:
    """The pure-loss channel as ``[G, c, c, c, c]`` acting on (ket, bra) index pairs.

    Kraus operators ``A_k |n> = sqrt(C(n, k) T^(n-k) (1-T)^k) |n-k>``; the result maps
    ``rho[n, n']`` to ``sum_k A_k rho A_k^dagger``, indexed (out ket, out bra, in ket, in bra).
    Each entry is ``(1-T)^k T^((m+m')/2)`` times binomial factors, built from those powers (not from
    square roots of them), so the gradient is exact at T = 1; at T = 0 see ``TINY_TRANSMISSIVITY``.
    """
    pattern = _loss_pattern(cutoff, transmissivity.dtype, transmissivity.device)  # [k, m, n]
    dropped = _powers(1 - transmissivity, cutoff)  # [G, k]: (1-T)^k
    kept = _half_powers(_off_zero(transmissivity), 2 * cutoff - 1)  # [G, e]: T^(e/2), e = m + m'
    n = torch.arange(cutoff, device=transmissivity.device)
    channel = torch.einsum("gk,kmn,kab->gmanb", dropped, pattern, pattern)
    return (channel * kept[:, n[:, None] + n[None, :], None, None]).to(dtype)
