"""Seeded samples from a batched Fock state: photon numbers and homodyne outcomes.

Both draw by inverse-CDF (``qvec.sim.sampling``), which has no limit on the number of outcomes, so
a Fock space of more than 2**24 states samples like a small one. The samples' size is checked
against the memory budget before anything is drawn.
"""

from __future__ import annotations

import math

import torch

from qvec.sim.memory import check_fits
from qvec.sim.sampling import SAMPLE_BYTES_PER_SHOT, check_seed, check_shots, sample_indices, uniform_draws

from .measure import check_quadrature_density_fits, probabilities, quadrature_density

__all__ = ["sample_photon_numbers", "sample_homodyne", "HOMODYNE_GRID_POINTS", "HOMODYNE_MARGIN"]

# Homodyne outcomes are drawn from P(x) tabulated on this many points, out to the classical
# turning point of the highest Fock level kept plus a margin, in units of sqrt(hbar).
HOMODYNE_GRID_POINTS = 4096
HOMODYNE_MARGIN = 4.0


def _check_samples_fit(tensor: torch.Tensor, shots: int, bytes_per_shot: int) -> None:
    rows = tensor.shape[0]
    check_fits(rows * shots * bytes_per_shot, f"{shots} shots x B = {rows} (samples)", tensor.device,
               "lower the shots or the batch")


def sample_photon_numbers(tensor: torch.Tensor, n_modes: int, shots: int, seed: int | None = None) -> torch.Tensor:
    """Photon counts ``[B, shots, M]`` (int64) drawn from each row's Fock distribution."""
    batch, cutoff = tensor.shape[0], tensor.shape[1]
    check_seed(seed)
    _check_samples_fit(tensor, check_shots(shots), SAMPLE_BYTES_PER_SHOT + 8 * n_modes)
    probs = probabilities(tensor.detach(), n_modes).reshape(batch, -1)
    flat = sample_indices(probs, uniform_draws(batch, shots, seed, tensor.device))
    place = cutoff ** torch.arange(n_modes - 1, -1, -1, device=tensor.device)
    return (flat.unsqueeze(-1) // place) % cutoff


def sample_homodyne(tensor: torch.Tensor, n_modes: int, mode: int, shots: int, hbar: float, phi: float = 0.0,
                    seed: int | None = None) -> torch.Tensor:
    """Outcomes ``[B, shots]`` of measuring ``x_phi`` on ``mode``, from P(x) on a fine grid."""
    batch, cutoff = tensor.shape[0], tensor.shape[1]
    check_seed(seed)
    _check_samples_fit(tensor, check_shots(shots), 2 * SAMPLE_BYTES_PER_SHOT)
    check_quadrature_density_fits(tensor, n_modes, 1, HOMODYNE_GRID_POINTS)
    extent = math.sqrt(hbar) * (math.sqrt(2 * cutoff + 1) + HOMODYNE_MARGIN)
    grid = torch.linspace(-extent, extent, HOMODYNE_GRID_POINTS, dtype=torch.float64, device=tensor.device)
    density = quadrature_density(tensor.detach(), n_modes, [mode], grid, hbar, phi)
    uniforms = uniform_draws(batch, 2 * shots, seed, tensor.device)
    index = sample_indices(density, uniforms[:, :shots])
    jitter = uniforms[:, shots:] - 0.5  # a uniform position within the grid cell drawn
    return (grid[index] + jitter * (grid[1] - grid[0])).to(tensor.real.dtype)
