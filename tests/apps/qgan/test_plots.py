"""Plots are real PNG files (1-D histograms, 2-D heat maps, curves) and the GIF holds one frame per plot epoch."""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image

from qvec.apps.qgan.generator import Grid
from qvec.apps.qgan.plots import EpochPlots, plot_distribution, plot_losses, plot_w1
from qvec.apps.qgan.targets import TARGETS
from qvec.apps.qgan.training import EpochView

PNG = b"\x89PNG\r\n\x1a\n"
HISTORY = [{"epoch": e, "critic_loss": -1.0 / e, "generator_loss": 0.5, "w1": 1.0 / e} for e in (1, 2, 3)]


def test_distribution_plots_in_one_and_two_dimensions(tmp_path: Path) -> None:
    rng = torch.Generator().manual_seed(0)
    for dim in (1, 2):
        path = plot_distribution(tmp_path / f"d{dim}.png", torch.randn(200, dim, generator=rng),
                                 torch.randn(200, dim, generator=rng), Grid(-3.0, 3.0, 32, dim), "title")
        assert path.read_bytes().startswith(PNG)
        assert Image.open(path).size[0] > 500


def test_curves(tmp_path: Path) -> None:
    assert plot_losses(tmp_path / "l.png", HISTORY).read_bytes().startswith(PNG)
    assert plot_w1(tmp_path / "w.png", HISTORY).read_bytes().startswith(PNG)


def test_epoch_plots_every_n_epochs_and_at_the_last_then_a_gif(tmp_path: Path) -> None:
    target = TARGETS["gaussian"]
    rng = torch.Generator().manual_seed(1)
    plots = EpochPlots(tmp_path, every=2, last_epoch=3)
    for epoch in (1, 2, 3):
        view = EpochView(HISTORY[:epoch], target.sample(100, rng), target.sample(100, rng), Grid(-1, 5, 40, 1), target)
        plots(view)
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == ["epoch_00002.png", "epoch_00003.png"]
    for name in ("distribution.png", "losses.png", "w1.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG), name
    gif = plots.finish()
    assert gif.read_bytes()[:6] == b"GIF89a" and Image.open(gif).n_frames == 2
