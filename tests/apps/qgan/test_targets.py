"""Target samplers' moments against their definitions; the .npy target and its one-line errors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from qvec.apps.qgan.targets import TARGETS, target_by_name, target_from_file
from qvec.errors import InputError

N = 200_000


def _sample(name: str) -> torch.Tensor:
    return TARGETS[name].sample(N, torch.Generator().manual_seed(0))


@pytest.mark.parametrize("name, mean, std", [
    ("gaussian", [2.0], [0.5]),
    ("bimodal", [0.0], [math.sqrt(4 + 0.25)]),          # mixture variance: spread of centres + component
    ("trimodal", [0.0], [math.sqrt(6 + 0.16)]),         # centres -3, 0, 3: variance 6
    ("gaussian2d", [1.0, -1.0], [0.5, 0.5]),
    ("correlated", [0.0, 0.0], [1.0, 1.0]),
    ("four_gaussians", [0.0, 0.0], [math.sqrt(4 + 0.09)] * 2),
])
def test_target_moments(name: str, mean: list[float], std: list[float]) -> None:
    samples = _sample(name)
    assert samples.shape == (N, len(mean)) and samples.dtype == torch.float64
    assert samples.mean(0).tolist() == pytest.approx(mean, abs=0.02)
    assert samples.std(0).tolist() == pytest.approx(std, rel=0.01)


def test_correlated_target_has_correlation_0_8() -> None:
    assert float(torch.corrcoef(_sample("correlated").T)[0, 1]) == pytest.approx(0.8, abs=0.01)


def test_ring_radius_and_uniform_angle() -> None:
    samples = _sample("ring")
    radius = samples.norm(dim=1)
    assert float(radius.mean()) == pytest.approx(2.0, abs=0.01) and float(radius.std()) == pytest.approx(0.1, rel=0.02)
    assert samples.mean(0).tolist() == pytest.approx([0.0, 0.0], abs=0.01)


def test_same_generator_state_same_samples() -> None:
    assert torch.equal(_sample("trimodal")[:100], _sample("trimodal")[:100])


def test_unknown_target_names_the_choices() -> None:
    with pytest.raises(InputError, match="unknown --target 'moon'.*four_gaussians"):
        target_by_name("moon")


def test_target_file_samples_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "points.npy"
    data = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    np.save(path, data)
    target = target_from_file(path)
    samples = target.sample(300, torch.Generator().manual_seed(0))
    assert target.dim == 2 and {tuple(row) for row in samples.tolist()} == {tuple(row) for row in data.tolist()}
    np.save(path, np.arange(5.0))
    assert target_from_file(path).dim == 1


@pytest.mark.parametrize("content, message", [
    (np.zeros((4, 3)), "shape \\(4, 3\\)"),
    (np.zeros((2, 2, 2)), "shape"),
    (np.array([1.0, np.nan]), "NaN"),
    (np.array(["a", "b"]), "real numbers"),
])
def test_target_file_errors_name_the_file(tmp_path: Path, content: np.ndarray, message: str) -> None:
    path = tmp_path / "bad.npy"
    np.save(path, content)
    with pytest.raises(InputError, match=message) as error:
        target_from_file(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_target_file_that_is_not_npy(tmp_path: Path) -> None:
    path = tmp_path / "notes.npy"
    path.write_text("not numpy\nat all")
    with pytest.raises(InputError, match="not a readable .npy file") as error:
        target_from_file(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(InputError, match="missing.npy"):
        target_from_file(tmp_path / "missing.npy")
