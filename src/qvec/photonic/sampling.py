"""Seeded samples from a batched Fock state: photon numbers and homodyne outcomes."""

from __future__ import annotations

import math

import torch

from .measure import probabilities, quadrature_density

__all__ = ["sample_photon_numbers", "sample_homodyne", "HOMODYNE_GRID_POINTS", "HOMODYNE_MARGIN"]

# Homodyne outcomes are drawn from P(x) tabulated on this many points, out to the classical
# turning point of the highest Fock level kept plus a margin, in units of sqrt(hbar).
HOMODYNE_GRID_POINTS = 4096
HOMODYNE_MARGIN = 4.0


def _generator(seed: int | None, device: torch.device) -> torch.Generator | None:
    if seed is None:
        return None
    return torch.Generator(device=device).manual_seed(seed)


def sample_photon_numbers(tensor: torch.Tensor, n_modes: int, shots: int, seed: int | None = None) -> torch.Tensor:
    """Photon counts ``[B, shots, M]`` (int64) drawn from each row's Fock distribution."""
    batch, cutoff = tensor.shape[0], tensor.shape[1]
    probs = probabilities(tensor, n_modes).detach().reshape(batch, -1).clamp_min(0).to(torch.float64)
    flat = torch.multinomial(probs, shots, replacement=True, generator=_generator(seed, tensor.device))
    place = cutoff ** torch.arange(n_modes - 1, -1, -1, device=tensor.device)
    return (flat.unsqueeze(-1) // place) % cutoff


def sample_homodyne(tensor: torch.Tensor, n_modes: int, mode: int, shots: int, hbar: float, phi: float = 0.0,
                    seed: int | None = None) -> torch.Tensor:
    """Outcomes ``[B, shots]`` of measuring ``x_phi`` on ``mode``, from P(x) on a fine grid."""
    cutoff = tensor.shape[1]
    extent = math.sqrt(hbar) * (math.sqrt(2 * cutoff + 1) + HOMODYNE_MARGIN)
    grid = torch.linspace(-extent, extent, HOMODYNE_GRID_POINTS, dtype=torch.float64, device=tensor.device)
    density = quadrature_density(tensor.detach(), n_modes, [mode], grid, hbar, phi).to(torch.float64).clamp_min(0)
    generator = _generator(seed, tensor.device)
    index = torch.multinomial(density, shots, replacement=True, generator=generator)
    spacing = grid[1] - grid[0]
    jitter = torch.rand(index.shape, dtype=torch.float64, device=tensor.device, generator=generator) - 0.5
    return (grid[index] + jitter * spacing).to(tensor.real.dtype)
