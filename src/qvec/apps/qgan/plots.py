"""PNG plots of a CV GAN run (matplotlib, no display needed) and an animated GIF of training (Pillow).

Figures are built with ``matplotlib.figure.Figure``, never pyplot, so no global state or GUI backend is touched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import torch

from .generator import Grid

__all__ = ["EpochPlots", "FRAMES", "plot_distribution", "plot_losses", "plot_w1", "write_gif"]

FRAMES = "frames"  # folder of the per-plot distribution frames the GIF is made of
HISTOGRAM_BINS = 80
HEATMAP_BINS = 60
GIF_FRAME_MS = 400


def _figure(width: float = 6.0, height: float = 4.0) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def plot_distribution(path: Path, generated: torch.Tensor, reference: torch.Tensor, grid: Grid, title: str) -> Path:
    """Target vs generated: overlaid histograms in 1-D, two heat maps on the same axes in 2-D."""
    generated, reference = generated.double().numpy(), reference.double().numpy()
    limits = (grid.low, grid.high)
    if grid.dim == 1:
        figure = _figure()
        axes = figure.add_subplot()
        axes.hist(reference[:, 0], bins=HISTOGRAM_BINS, range=limits, density=True, alpha=0.5, label="target")
        axes.hist(generated[:, 0], bins=HISTOGRAM_BINS, range=limits, density=True, alpha=0.5, label="generated")
        axes.set_xlabel("x")
        axes.set_ylabel("density")
        axes.legend()
    else:
        figure = _figure(10.0, 4.6)
        for index, (name, points) in enumerate((("target", reference), ("generated", generated))):
            axes = figure.add_subplot(1, 2, index + 1)
            axes.hist2d(points[:, 0], points[:, 1], bins=HEATMAP_BINS, range=[limits, limits], cmap="viridis")
            axes.set_title(name)
            axes.set_xlabel("x")
            axes.set_ylabel("y")
            axes.set_aspect("equal")
    figure.suptitle(title)
    figure.savefig(path)
    return path


def _curves(path: Path, history: Sequence[dict[str, Any]], keys: Sequence[str], ylabel: str) -> Path:
    figure = _figure()
    axes = figure.add_subplot()
    epochs = [row["epoch"] for row in history]
    for key in keys:
        if any(key in row for row in history):
            axes.plot(epochs, [row.get(key, float("nan")) for row in history], marker=".", label=key)
    axes.set_xlabel("epoch")
    axes.set_ylabel(ylabel)
    axes.legend()
    figure.savefig(path)
    return path


def plot_losses(path: Path, history: Sequence[dict[str, Any]]) -> Path:
    """Critic and generator losses (epoch means) against the epoch."""
    return _curves(path, history, ("critic_loss", "generator_loss"), "loss")


def plot_w1(path: Path, history: Sequence[dict[str, Any]]) -> Path:
    """W1 to the target against the epoch (sliced in 2-D, with the exact matching distance beside it)."""
    return _curves(path, history, ("w1", "w1_matching"), "Wasserstein-1 to the target")


def write_gif(frames: Sequence[Path], path: Path) -> Path | None:
    """An animated GIF of ``frames`` (PNG files, in order); None when there are none."""
    from PIL import Image

    if not frames:
        return None
    images = [Image.open(frame).convert("RGB") for frame in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=GIF_FRAME_MS, loop=0)
    return path


class EpochPlots:
    """An ``on_epoch`` hook: every ``every`` epochs and at ``last_epoch``, the distribution (also kept as a GIF
    frame), loss and W1 plots in ``out``; ``finish()`` assembles the GIF from every frame written so far."""

    def __init__(self, out: Path, every: int, last_epoch: int) -> None:
        self.out, self.every, self.last_epoch = Path(out), every, last_epoch
        self.written: list[Path] = []

    def __call__(self, view: Any) -> None:
        epoch = view.row["epoch"]
        if epoch % self.every and epoch != self.last_epoch:
            return
        frames = self.out / FRAMES
        frames.mkdir(exist_ok=True)
        title = f"{view.target.name}, epoch {epoch}: W1 {view.row['w1']:.3f}"
        frame = plot_distribution(frames / f"epoch_{epoch:05d}.png", view.generated, view.reference, view.grid, title)
        self.written = [
            plot_distribution(self.out / "distribution.png", view.generated, view.reference, view.grid, title),
            plot_losses(self.out / "losses.png", view.history),
            plot_w1(self.out / "w1.png", view.history),
            frame,
        ]

    def finish(self) -> Path | None:
        """``training.gif`` from the frames in ``out/frames`` (those of an interrupted run's epochs too)."""
        return write_gif(sorted((self.out / FRAMES).glob("epoch_*.png")), self.out / "training.gif")
