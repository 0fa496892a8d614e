"""How close generated samples are to a target: Wasserstein-1 (exact in 1-D, sliced and exact-by-assignment
in 2-D), mode coverage of mixtures and rings, and moments."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .targets import Target

__all__ = ["ModeCoverage", "mode_coverage", "sliced_wasserstein", "wasserstein_1d", "wasserstein_assignment"]

PROJECTIONS = 128  # directions of the sliced distance: its spread over seeds is below 1% of its value at this count
PROJECTION_SEED = 0  # the same directions every epoch and every run, so values compare
ON_TARGET_WIDTHS = 3.0  # a sample within 3 standard deviations of a mode (or of the ring) is on target
COVERED_SHARE = 0.5  # a mode is covered if it gets at least half its fair share of the on-target samples


def wasserstein_1d(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """W1 between the empirical distributions of samples ``u`` and ``v`` ``[n]``, ``[m]``: the integral of
    ``|F_u - F_v|`` over the merged sorted points (exact for any sizes)."""
    u, v = u.reshape(-1).to(torch.float64).sort().values, v.reshape(-1).to(torch.float64).sort().values
    points = torch.cat([u, v]).sort().values
    cdf_u = torch.searchsorted(u, points[:-1], right=True).double() / u.numel()
    cdf_v = torch.searchsorted(v, points[:-1], right=True).double() / v.numel()
    return ((cdf_u - cdf_v).abs() * points.diff()).sum()


def _directions(dim: int, count: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(PROJECTION_SEED)
    directions = torch.randn(count, dim, generator=generator, dtype=torch.float64)
    return directions / directions.norm(dim=1, keepdim=True)


def sliced_wasserstein(u: torch.Tensor, v: torch.Tensor, projections: int = PROJECTIONS) -> torch.Tensor:
    """The mean over a fixed seeded set of unit directions of W1 between the projections of ``u`` and ``v``
    ``[n, d]``; for d = 1 it is the exact W1."""
    if u.shape[1] == 1:
        return wasserstein_1d(u, v)
    directions = _directions(u.shape[1], projections)
    pu, pv = u.to(torch.float64) @ directions.T, v.to(torch.float64) @ directions.T
    return torch.stack([wasserstein_1d(pu[:, k], pv[:, k]) for k in range(projections)]).mean()


def wasserstein_assignment(u: torch.Tensor, v: torch.Tensor) -> float:
    """Exact W1 between two empirical distributions of equally many points ``[n, d]``: the optimal
    one-to-one matching (Hungarian algorithm) of Euclidean distances, averaged."""
    from scipy.optimize import linear_sum_assignment

    if u.shape != v.shape:
        raise ValueError(f"wasserstein_assignment needs equally many points, got {tuple(u.shape)} and {tuple(v.shape)}")
    cost = torch.cdist(u.to(torch.float64), v.to(torch.float64)).numpy()
    rows, columns = linear_sum_assignment(cost)
    return float(cost[rows, columns].mean())


@dataclass(frozen=True)
class ModeCoverage:
    """Modes (or ring sectors) covered out of ``total``, and the fraction of samples on target."""

    covered: int
    total: int
    on_target: float


def mode_coverage(samples: torch.Tensor, target: Target) -> ModeCoverage | None:
    """Coverage of a mixture's modes or a ring's sectors by ``samples`` ``[n, d]``; None for other targets.

    A sample is on target within ``ON_TARGET_WIDTHS`` standard deviations of its nearest mode (or of the ring's
    radius); a mode or sector is covered if it holds at least ``COVERED_SHARE`` of its fair share (1 / modes) of
    the on-target samples. Coverage says which modes the generator reaches, ``on_target`` how sharply.
    """
    samples = samples.to(torch.float64)
    if target.centers:
        centers = torch.tensor(target.centers, dtype=torch.float64)
        distance, which = torch.cdist(samples, centers).min(dim=1)
        total = len(target.centers)
    elif target.sectors:
        radius = samples.norm(dim=1)
        distance = (radius - target.radius).abs()
        angle = torch.atan2(samples[:, 1], samples[:, 0]) % (2 * math.pi)
        which = (angle / (2 * math.pi / target.sectors)).long().clamp(max=target.sectors - 1)
        total = target.sectors
    else:
        return None
    on_target = distance < ON_TARGET_WIDTHS * target.width
    counts = torch.bincount(which[on_target], minlength=total)
    covered = int(((counts > 0) & (counts >= COVERED_SHARE * int(on_target.sum()) / total)).sum())
    return ModeCoverage(covered, total, float(on_target.double().mean()))

