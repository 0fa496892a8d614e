"""The distributions the CV GAN learns: 1-D and 2-D test densities, and a user's samples from a ``.npy`` file.

Each target samples with a caller's ``torch.Generator`` (so a run is reproducible and resumable) and
knows its modes (centres and widths) where it has any, for the mode-coverage metric.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from qvec.errors import InputError

__all__ = ["Target", "TARGETS", "target_by_name", "target_from_file"]

Sampler = Callable[[int, torch.Generator], torch.Tensor]


@dataclass(frozen=True)
class Target:
    """A distribution on ``dim`` coordinates: ``sample(n, generator) -> [n, dim]`` float64.

    ``centers`` ``[K, dim]`` and ``width`` (the standard deviation of each component) describe a mixture's
    modes; ``sectors`` > 0 marks a ring of ``radius`` whose coverage is measured in that many angular sectors.
    """

    name: str
    dim: int
    sampler: Sampler = field(repr=False)
    description: str = ""
    centers: tuple[tuple[float, ...], ...] = ()
    width: float = 0.0
    sectors: int = 0
    radius: float = 0.0

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return self.sampler(n, generator)


def _mixture(centers: list[tuple[float, ...]], std: float) -> Sampler:
    """Equal-weight mixture of isotropic Gaussians ``N(center, std^2 I)``."""
    means = torch.tensor(centers, dtype=torch.float64)

    def sample(n: int, generator: torch.Generator) -> torch.Tensor:
        which = torch.randint(len(centers), (n,), generator=generator)
        noise = torch.randn(n, means.shape[1], generator=generator, dtype=torch.float64)
        return means[which] + std * noise

    return sample


def _correlated(n: int, generator: torch.Generator) -> torch.Tensor:
    """``N(0, [[1, 0.8], [0.8, 1]])`` through its Cholesky factor."""
    cholesky = torch.linalg.cholesky(torch.tensor([[1.0, 0.8], [0.8, 1.0]], dtype=torch.float64))
    return torch.randn(n, 2, generator=generator, dtype=torch.float64) @ cholesky.T


RING_RADIUS, RING_STD = 2.0, 0.1


def _ring(n: int, generator: torch.Generator) -> torch.Tensor:
    """Angle uniform on [0, 2 pi), radius ``N(2, 0.1^2)``."""
    angle = 2 * math.pi * torch.rand(n, generator=generator, dtype=torch.float64)
    radius = RING_RADIUS + RING_STD * torch.randn(n, generator=generator, dtype=torch.float64)
    return torch.stack([radius * angle.cos(), radius * angle.sin()], dim=1)


def _targets() -> dict[str, Target]:
    four = [(-2.0, -2.0), (-2.0, 2.0), (2.0, -2.0), (2.0, 2.0)]
    return {target.name: target for target in [
        Target("gaussian", 1, _mixture([(2.0,)], 0.5), "N(2, 0.5^2)"),
        Target("bimodal", 1, _mixture([(-2.0,), (2.0,)], 0.5), "1/2 N(-2, 0.5^2) + 1/2 N(2, 0.5^2)",
               centers=((-2.0,), (2.0,)), width=0.5),
        Target("trimodal", 1, _mixture([(-3.0,), (0.0,), (3.0,)], 0.4),
               "1/3 each of N(-3, 0.4^2), N(0, 0.4^2), N(3, 0.4^2)", centers=((-3.0,), (0.0,), (3.0,)), width=0.4),
        Target("gaussian2d", 2, _mixture([(1.0, -1.0)], 0.5), "N((1, -1), 0.5^2 I)"),
        Target("ring", 2, _ring, "angle uniform, radius N(2, 0.1^2)", width=RING_STD, sectors=8,
               radius=RING_RADIUS),
        Target("correlated", 2, _correlated, "N(0, [[1, 0.8], [0.8, 1]])"),
        Target("four_gaussians", 2, _mixture(four, 0.3), "1/4 each of N((+-2, +-2), 0.3^2 I)",
               centers=tuple(four), width=0.3),
    ]}


TARGETS = _targets()


def target_by_name(name: str) -> Target:
    """The built-in target ``name``, or an ``InputError`` listing them."""
    if name not in TARGETS:
        raise InputError(f"unknown --target {name!r}; choose one of {', '.join(TARGETS)} or give --target-file")
    return TARGETS[name]


MAX_FILE_DIM = 2


def target_from_file(path: Path | str) -> Target:
    """Samples from a ``.npy`` file (``[N]`` or ``[N, d]``, d = 1 or 2, finite reals): drawn with replacement."""
    path = Path(path)
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"--target-file {path}: not a readable .npy file ({' '.join(str(exc).split())})") from None
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or not 1 <= array.shape[1] <= MAX_FILE_DIM or array.shape[0] < 2:
        raise InputError(f"--target-file {path}: needs samples of shape [N] or [N, d] with N >= 2 and d = 1 or 2, "
                         f"got shape {tuple(np.shape(array))}")
    if not np.issubdtype(array.dtype, np.integer) and not np.issubdtype(array.dtype, np.floating):
        raise InputError(f"--target-file {path}: needs real numbers, got dtype {array.dtype}")
    data = torch.from_numpy(array.astype(np.float64))
    if not bool(torch.isfinite(data).all()):
        raise InputError(f"--target-file {path}: holds NaN or infinite values")

    def sample(n: int, generator: torch.Generator) -> torch.Tensor:
        return data[torch.randint(data.shape[0], (n,), generator=generator)]

    return Target(path.name, data.shape[1], sample, f"{data.shape[0]} samples from {path.name}")
