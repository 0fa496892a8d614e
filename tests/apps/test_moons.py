"""The bundled two-moons points load as documented."""

from __future__ import annotations

import torch

from qvec.apps.moons import load_two_moons


def test_bundled_data_has_200_points_of_two_classes() -> None:
    points, labels = load_two_moons()
    assert points.shape == (200, 2) and points.dtype == torch.float32
    assert labels.shape == (200,) and set(labels.tolist()) == {0, 1}
