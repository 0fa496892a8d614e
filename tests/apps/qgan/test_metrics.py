"""W1 against scipy and closed forms; sliced W1's properties; mode coverage on constructed samples."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.optimize import linear_sum_assignment
from scipy.stats import norm, wasserstein_distance

from qvec.apps.qgan.metrics import mode_coverage, sliced_wasserstein, wasserstein_1d, wasserstein_assignment
from qvec.apps.qgan.targets import TARGETS


@pytest.mark.parametrize("sizes", [(50, 50), (37, 91), (1, 5)])
def test_wasserstein_1d_equals_scipy(sizes: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(sizes))
    u, v = rng.normal(0, 1, sizes[0]), rng.exponential(2.0, sizes[1])
    assert float(wasserstein_1d(torch.from_numpy(u), torch.from_numpy(v))) == pytest.approx(wasserstein_distance(u, v), rel=1e-12)


def test_wasserstein_1d_of_two_gaussians_matches_the_closed_form() -> None:
    # W1(N(m1, s1^2), N(m2, s2^2)) = E|d + s Z| with d = m1 - m2, s = |s1 - s2| (quantile coupling).
    d, s = 0.7, 0.4
    closed = s * math.sqrt(2 / math.pi) * math.exp(-d * d / (2 * s * s)) + d * (1 - 2 * norm.cdf(-d / s))
    quantiles = torch.from_numpy(norm.ppf((np.arange(200_000) + 0.5) / 200_000))
    u, v = 2.0 + 0.9 * quantiles, 1.3 + 0.5 * quantiles
    assert float(wasserstein_1d(u, v)) == pytest.approx(closed, rel=1e-3)


def test_sliced_wasserstein_of_a_shift_is_the_mean_projected_length() -> None:
    points = torch.randn(500, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    shift = torch.tensor([3.0, 0.0], dtype=torch.float64)
    # A translation moves every projection by <shift, direction>; the mean of |cos| over the circle is 2/pi.
    assert float(sliced_wasserstein(points, points)) == 0.0
    assert float(sliced_wasserstein(points, points + shift)) == pytest.approx(3.0 * 2 / math.pi, rel=0.1)
    assert float(sliced_wasserstein(points, points + shift)) == float(sliced_wasserstein(points + shift, points))


def test_sliced_wasserstein_is_invariant_to_the_order_of_points_and_fixed_between_calls() -> None:
    rng = torch.Generator().manual_seed(1)
    u, v = torch.randn(300, 2, generator=rng), torch.rand(300, 2, generator=rng)
    first = float(sliced_wasserstein(u, v))
    assert float(sliced_wasserstein(u[torch.randperm(300, generator=rng)], v)) == pytest.approx(first, rel=1e-12)
    assert float(sliced_wasserstein(u, v)) == first


def test_wasserstein_assignment_equals_brute_force_on_a_small_set() -> None:
    from itertools import permutations

    rng = torch.Generator().manual_seed(2)
    u, v = torch.randn(6, 2, generator=rng, dtype=torch.float64), torch.randn(6, 2, generator=rng, dtype=torch.float64)
    cost = torch.cdist(u, v)
    best = min(sum(float(cost[i, p[i]]) for i in range(6)) for p in permutations(range(6))) / 6
    assert wasserstein_assignment(u, v) == pytest.approx(best, rel=1e-12)
    rows, cols = linear_sum_assignment(cost.numpy())
    assert best == pytest.approx(float(cost.numpy()[rows, cols].mean()))


def test_mode_coverage_counts_modes_that_get_their_share() -> None:
    target = TARGETS["four_gaussians"]
    rng = torch.Generator().manual_seed(3)
    centers = torch.tensor(target.centers, dtype=torch.float64)
    two_modes = centers[torch.arange(400) % 2] + 0.1 * torch.randn(400, 2, generator=rng, dtype=torch.float64)
    coverage = mode_coverage(two_modes, target)
    assert (coverage.covered, coverage.total, coverage.on_target) == (2, 4, 1.0)
    assert mode_coverage(target.sample(4000, rng), target).covered == 4
    far = torch.full((100, 2), 10.0, dtype=torch.float64)
    assert (mode_coverage(far, target).covered, mode_coverage(far, target).on_target) == (0, 0.0)
    # one mode hit by 10 on-target points, the rest far away: covered 1, on target 10%
    one = torch.cat([centers[:1].expand(10, 2), far[:90]])
    assert (mode_coverage(one, target).covered, mode_coverage(one, target).on_target) == (1, 0.1)


def test_ring_coverage_counts_angular_sectors() -> None:
    target = TARGETS["ring"]
    rng = torch.Generator().manual_seed(4)
    assert mode_coverage(target.sample(4000, rng), target).covered == 8
    half = target.sample(4000, rng)
    half = half[half[:, 1] > 0]  # the upper half ring: sectors 0 to 3
    assert mode_coverage(half, target).covered == 4
    assert mode_coverage(torch.zeros(10, 2), TARGETS["correlated"]) is None
