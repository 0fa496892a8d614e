"""PNG plots of ``qvec bench`` results (matplotlib, Agg: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

__all__ = ["plot_rates"]


def plot_rates(panels: dict[str, dict[str, Iterable[tuple[int, float]]]], title: str, path: Path) -> None:
    """One log-log panel per key of ``panels``: samples/s against B, one line per series of (B, samples/s) points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.5), squeeze=False)
    for axis, (name, series) in zip(axes[0], panels.items()):
        for label, points in series.items():
            points = sorted(points)
            if points:
                axis.plot([b for b, _ in points], [r for _, r in points], marker="o", label=label)
        axis.set(xscale="log", yscale="log", xlabel="batch size B", ylabel="samples/s", title=name)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize="small")
    figure.suptitle(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
