"""Fock-space matrices of CV gates, batched over parameter rows, from stable recurrences.

Every builder takes real parameter tensors of shape ``[G]`` (one row per gate instance) and
returns complex matrices with a leading ``[G]`` axis: ``[G, c, c]`` for one mode (row index =
output photon number), ``[G, c, c, c, c]`` for two modes (output m, n then input p, q).

Why recurrences: a matrix exponential of truncated ladder operators is wrong near the cutoff,
and closed-form sums cancel catastrophically at large cutoffs. The recurrences below (the ones
of The Walrus / Strawberry Fields) only ever read lower Fock indices, so each truncated entry is
exact, and every step is a bounded linear combination. The phase of each gate is pulled out as a
rotation, ``G(r, phi) = R(.) G(r, 0) R(.)^dagger``, so the recurrences run in real arithmetic.

Callers pass float64 parameters: the recurrences lose about four digits by cutoff 30, which
float32 cannot spare, and the cost of float64 on these small tensors is negligible.

Conventions are Strawberry Fields' (hbar-free here): ``D(alpha) = exp(alpha a^dag - alpha^* a)``,
``S(z) = exp((z^* a^2 - z a^dag^2) / 2)``, ``BS(theta, phi) = exp(theta (e^{i phi} a b^dag -
e^{-i phi} a^dag b))``, ``S2(z) = exp(z a^dag b^dag - z^* a b)``, ``R(phi) = exp(i phi n)``,
``K(kappa) = exp(i kappa n^2)``, ``CK(kappa) = exp(i kappa n_1 n_2)``.
"""

from __future__ import annotations

import functools
import math

import torch

__all__ = [
    "displacement", "squeezing", "rotation", "kerr", "beamsplitter", "mach_zehnder",
    "two_mode_squeezing", "cross_kerr", "coherent_amplitudes", "loss_superoperator", "real_dtype",
]


_REAL_DTYPES = {torch.complex64: torch.float32, torch.complex128: torch.float64}


def real_dtype(dtype: torch.dtype) -> torch.dtype:
    """The real dtype matching a complex one (complex64 -> float32)."""
    return _REAL_DTYPES[dtype]


@functools.lru_cache(maxsize=64)
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
    return torch.polar(torch.ones_like(theta), theta).to(dtype)


def _coherent_real(r: torch.Tensor, cutoff: int) -> torch.Tensor:
    """Fock amplitudes ``[G, c]`` of the coherent state |r>, r real: ``e^{-r^2/2} r^n / sqrt(n!)``."""
    n = _number_range(cutoff, r.dtype, r.device)
    ratios = r.unsqueeze(-1) / n[1:].sqrt()
    return torch.exp(-0.5 * r * r).unsqueeze(-1) * torch.cat(
        [torch.ones_like(r).unsqueeze(-1), torch.cumprod(ratios, dim=-1)], dim=-1)


def coherent_amplitudes(r: torch.Tensor, phi: torch.Tensor, cutoff: int, dtype: torch.dtype) -> torch.Tensor:
    """Fock amplitudes ``[G, c]`` of the coherent state |r e^{i phi}>."""
    n = _number_range(cutoff, r.dtype, r.device)
    return _coherent_real(r, cutoff).to(dtype) * _phase(phi, n, dtype)


def _displacement_real(r: torch.Tensor, cutoff: int) -> torch.Tensor:
    """D(r) for real r: column n = (a^dag - r) column n-1 / sqrt(n), column 0 the coherent state."""
    column = _coherent_real(r, cutoff)
    columns = [column]
    for n in range(1, cutoff):
        column = (_raise(column, 1) - r.unsqueeze(-1) * column) / math.sqrt(n)
        columns.append(column)
    return torch.stack(columns, dim=-1)


def displacement(r: torch.Tensor, phi: torch.Tensor, cutoff: int, dtype: torch.dtype) -> torch.Tensor:
    """D(r e^{i phi}) as ``[G, c, c]``: ``D(alpha) = R(phi) D(r) R(-phi)``."""
    n = _number_range(cutoff, r.dtype, r.device)
    return _displacement_real(r, cutoff).to(dtype) * _phase(phi, n[:, None] - n[None, :], dtype)


def _squeezing_real(r: torch.Tensor, cutoff: int) -> torch.Tensor:
    """S(r) for real r, column by column: S|n> = (tanh r sqrt(n-1) S|n-2> + sech r a^dag S|n-1>) / sqrt(n)."""
    tanh, sech = torch.tanh(r).unsqueeze(-1), (1.0 / torch.cosh(r)).unsqueeze(-1)
    half = (cutoff + 1) // 2
    k = _number_range(half, r.dtype, r.device)[1:]
    even = sech.sqrt() * _powers(-tanh.squeeze(-1), half) * torch.cat(
        [torch.ones(1, dtype=r.dtype, device=r.device), torch.cumprod(((2 * k - 1) / (2 * k)).sqrt(), 0)])
    column = torch.stack([even, torch.zeros_like(even)], dim=-1).reshape(*r.shape, 2 * half)[..., :cutoff]
    columns = [column]
    for n in range(1, cutoff):
        step = sech * (_raise(column, 1))
        if n >= 2:
            step = step + math.sqrt(n - 1) * tanh * columns[n - 2]
        column = step / math.sqrt(n)
        columns.append(column)
    return torch.stack(columns, dim=-1)


def squeezing(r: torch.Tensor, phi: torch.Tensor, cutoff: int, dtype: torch.dtype) -> torch.Tensor:
    """S(r e^{i phi}) as ``[G, c, c]``: ``S(r, phi) = R(phi/2) S(r, 0) R(-phi/2)``."""
    n = _number_range(cutoff, r.dtype, r.device)
    return _squeezing_real(r, cutoff).to(dtype) * _phase(phi / 2, n[:, None] - n[None, :], dtype)


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


def _raise(tensor: torch.Tensor, axis: int) -> torch.Tensor:
    """Apply a^dagger along ``axis``: ``out[.., m, ..] = sqrt(m) in[.., m-1, ..]``.

    A shift and a scale rather than a matmul: cheaper at these sizes, and it never enters a
    threaded batched GEMM, which stalls for milliseconds when the machine's cores are busy.
    """
    cutoff = tensor.shape[axis]
    shifted = torch.nn.functional.pad(tensor.narrow(axis, 0, cutoff - 1), [0, 0] * (tensor.dim() - 1 - axis) + [1, 0])
    shape = [1] * tensor.dim()
    shape[axis] = cutoff
    return shifted * _number_range(cutoff, tensor.dtype, tensor.device).sqrt().reshape(shape)


def _beamsplitter_real(theta: torch.Tensor, cutoff: int) -> torch.Tensor:
    """BS(theta, 0) as ``[G, m, n, p, q]`` from B a^dag B^dag = t a^dag + s b^dag, B b^dag B^dag = t b^dag - s a^dag."""
    t, s = torch.cos(theta).reshape(-1, 1, 1), torch.sin(theta).reshape(-1, 1, 1)
    vacuum = torch.zeros(theta.shape[0], cutoff, cutoff, dtype=theta.dtype, device=theta.device)
    vacuum[:, 0, 0] = 1.0
    inputs = [vacuum]  # |p, 0> for p = 0..c-1, as [G, m, n]
    for p in range(1, cutoff):
        prev = inputs[-1]
        inputs.append((t * _raise(prev, 1) + s * _raise(prev, 2)) / math.sqrt(p))
    block = torch.stack(inputs, dim=-1)  # [G, m, n, p] at q = 0
    t, s = t.unsqueeze(-1), s.unsqueeze(-1)
    blocks = [block]
    for q in range(1, cutoff):
        block = (t * _raise(block, 2) - s * _raise(block, 1)) / math.sqrt(q)
        blocks.append(block)
    return torch.stack(blocks, dim=-1)


def beamsplitter(theta: torch.Tensor, phi: torch.Tensor, cutoff: int, dtype: torch.dtype) -> torch.Tensor:
    """BS(theta, phi) as ``[G, c, c, c, c]``: ``BS(theta, phi) = R_2(phi) BS(theta, 0) R_2(-phi)``."""
    n = _number_range(cutoff, theta.dtype, theta.device)
    exponent = (n[None, :, None, None] - n[None, None, None, :]).expand(cutoff, cutoff, cutoff, cutoff)
    return _beamsplitter_real(theta, cutoff).to(dtype) * _phase(phi, exponent, dtype)


@functools.lru_cache(maxsize=16)
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


def _two_mode_squeezing_real(r: torch.Tensor, cutoff: int) -> torch.Tensor:
    """S2(r, 0) as ``[G, m, n, p, q]``; S2|0,0> = sech r sum (tanh r)^n |n, n>."""
    tanh, sech = torch.tanh(r), 1.0 / torch.cosh(r)
    vacuum = torch.diag_embed(sech.unsqueeze(-1) * _powers(tanh, cutoff))  # [G, m, n]
    sech, tanh = sech.reshape(-1, 1, 1), tanh.reshape(-1, 1, 1, 1)
    inputs = [vacuum]
    for p in range(1, cutoff):
        inputs.append(sech * _raise(inputs[-1], 1) / math.sqrt(p))
    block = torch.stack(inputs, dim=-1)  # [G, m, n, p] at q = 0
    sech = sech.unsqueeze(-1)
    blocks = [block]
    for q in range(1, cutoff):
        lowered_input = _raise(block, 3)  # sqrt(p) <m, n| S2 |p - 1, q - 1>
        block = (sech * _raise(block, 2) - tanh * lowered_input) / math.sqrt(q)
        blocks.append(block)
    return torch.stack(blocks, dim=-1)


def two_mode_squeezing(r: torch.Tensor, phi: torch.Tensor, cutoff: int, dtype: torch.dtype) -> torch.Tensor:
    """S2(r e^{i phi}) as ``[G, c, c, c, c]``: ``S2(r, phi) = R_1(phi) S2(r, 0) R_1(-phi)``."""
    n = _number_range(cutoff, r.dtype, r.device)
    exponent = (n[:, None, None, None] - n[None, None, :, None]).expand(cutoff, cutoff, cutoff, cutoff)
    return _two_mode_squeezing_real(r, cutoff).to(dtype) * _phase(phi, exponent, dtype)


@functools.lru_cache(maxsize=16)
def _loss_pattern(cutoff: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``[k, m, n]`` tensor ``sqrt(C(n, k)) [n == m + k]``: where Kraus operator k sends |n> to |m>."""
    k, m, n = torch.meshgrid(*(torch.arange(cutoff, dtype=torch.float64),) * 3, indexing="ij")
    hit = n == m + k
    log_binomial = torch.lgamma(n + 1) - torch.lgamma(k + 1) - torch.lgamma((n - k).clamp_min(0) + 1)
    return torch.where(hit, (0.5 * log_binomial).exp(), torch.zeros_like(log_binomial)).to(dtype=dtype, device=device)


def loss_superoperator(transmissivity: torch.Tensor, cutoff: int, dtype: torch.dtype) -> torch.Tensor:
    """The pure-loss channel as ``[G, c, c, c, c]`` acting on (ket, bra) index pairs.

    Kraus operators ``A_k |n> = sqrt(C(n, k) T^(n-k) (1-T)^k) |n-k>``; the result maps
    ``rho[n, n']`` to ``sum_k A_k rho A_k^dagger``, indexed (out ket, out bra, in ket, in bra).
    """
    pattern = _loss_pattern(cutoff, transmissivity.dtype, transmissivity.device)
    kept = _powers(transmissivity.sqrt(), cutoff)  # [G, j]: sqrt(T)^j, j = photons kept = m
    dropped = _powers((1 - transmissivity).clamp_min(0).sqrt(), cutoff)  # [G, k]
    kraus = pattern * (dropped[:, :, None, None] * kept[:, None, :, None])  # [G, k, m, n]
    return torch.einsum("gkmn,gkab->gmanb", kraus, kraus).to(dtype)
