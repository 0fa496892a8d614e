"""The bundled two-moons points: a small 2-D data set for examples and tests of layers."""

from __future__ import annotations

import csv
from importlib import resources

import torch

__all__ = ["load_two_moons"]


def load_two_moons() -> tuple[torch.Tensor, torch.Tensor]:
    """The bundled data set: points ``[200, 2]`` (float32) and labels ``[200]`` (0 or 1)."""
    text = resources.files("qvec.apps").joinpath("data/two_moons.csv").read_text()
    rows = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    points = torch.tensor([[float(r["x"]), float(r["y"])] for r in rows])
    labels = torch.tensor([int(r["label"]) for r in rows])
    return points, labels
