"""PNG plots of a classifier run: curves (quantum vs classical), confusion matrices, misclassified examples."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

__all__ = ["PLOTS", "confusion_matrix", "plot_confusion", "plot_curves", "plot_misclassified", "write_plots"]

PLOTS = ("curves.png", "confusion.png", "misclassified.png")


def _pyplot():
    """matplotlib's pyplot on the Agg backend: files only, no display needed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """``[true, predicted]`` counts."""
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix


def plot_curves(history: Sequence[dict[str, float]], models: Sequence[str], path: Path) -> None:
    """Train and test loss, and test accuracy, per epoch for each model."""
    plt = _pyplot()
    epochs = [row["epoch"] for row in history]
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 4))
    for name in models:
        loss_axes.plot(epochs, [row[f"{name}.train_loss"] for row in history], label=f"{name} train")
        loss_axes.plot(epochs, [row[f"{name}.test_loss"] for row in history], "--", label=f"{name} test")
        accuracy_axes.plot(epochs, [row[f"{name}.test_accuracy"] for row in history], label=f"{name} test")
        accuracy_axes.plot(epochs, [row[f"{name}.train_accuracy"] for row in history], ":", label=f"{name} train")
    loss_axes.set(xlabel="epoch", ylabel="cross-entropy loss", title="Loss")
    accuracy_axes.set(xlabel="epoch", ylabel="accuracy", title="Accuracy", ylim=(0, 1))
    for axes in (loss_axes, accuracy_axes):
        axes.legend()
        axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def plot_confusion(labels: np.ndarray, predictions: dict[str, np.ndarray], classes: Sequence[str], path: Path) -> None:
    """One confusion matrix per model, side by side, counts written in the cells."""
    plt = _pyplot()
    figure, axes_row = plt.subplots(1, len(predictions), figsize=(5 * len(predictions), 4.5), squeeze=False)
    for axes, (name, predicted) in zip(axes_row[0], predictions.items()):
        matrix = confusion_matrix(labels, predicted, len(classes))
        axes.imshow(matrix, cmap="Blues")
        for (i, j), count in np.ndenumerate(matrix):
            if count:
                axes.text(j, i, str(count), ha="center", va="center", fontsize=7,
                          color="white" if count > matrix.max() / 2 else "black")
        ticks = range(len(classes))
        axes.set(xticks=ticks, yticks=ticks, xlabel="predicted", ylabel="true",
                 title=f"{name}: accuracy {np.trace(matrix) / matrix.sum():.1%}")
        axes.set_xticklabels(classes, rotation=90, fontsize=7)
        axes.set_yticklabels(classes, fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def plot_misclassified(images: np.ndarray, labels: np.ndarray, predicted: np.ndarray, classes: Sequence[str],
                       path: Path, limit: int = 32) -> None:
    """A grid of up to ``limit`` test images the model got wrong, each titled true -> predicted."""
    plt = _pyplot()
    wrong = np.flatnonzero(labels != predicted)[:limit]
    columns = 8
    rows = max(1, -(-len(wrong) // columns))
    figure, axes_grid = plt.subplots(rows, columns, figsize=(columns * 1.3, rows * 1.5), squeeze=False)
    for axes in axes_grid.flat:
        axes.axis("off")
    for axes, index in zip(axes_grid.flat, wrong):
        axes.imshow(images[index], cmap="gray_r" if images.ndim == 3 else None, vmin=0, vmax=1)
        axes.set_title(f"{classes[labels[index]]}->{classes[predicted[index]]}", fontsize=7)
    figure.suptitle(f"misclassified: {len(np.flatnonzero(labels != predicted))} of {len(labels)}"
                    if len(wrong) else "no test image misclassified")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def write_plots(out: Path, history: Sequence[dict[str, float]], test_images: np.ndarray, test_labels: np.ndarray,
                predictions: dict[str, np.ndarray], classes: Sequence[str]) -> list[Path]:
    """Every plot of ``PLOTS`` into ``out``; the misclassified grid is the quantum model's."""
    paths = [out / name for name in PLOTS]
    plot_curves(history, list(predictions), paths[0])
    plot_confusion(test_labels, predictions, classes, paths[1])
    plot_misclassified(test_images, test_labels, predictions["quantum"], classes, paths[2])
    return paths
