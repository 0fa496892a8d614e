"""Plots: PNG files written, and the confusion matrix counted as scikit-learn counts it."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import confusion_matrix as sklearn_confusion

from qvec.apps.classify.plots import PLOTS, confusion_matrix, write_plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_confusion_matrix_agrees_with_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    labels, predicted = rng.integers(0, 4, 50), rng.integers(0, 4, 50)
    np.testing.assert_array_equal(confusion_matrix(labels, predicted, 4), sklearn_confusion(labels, predicted, labels=range(4)))


def _history(epochs: int) -> list[dict[str, float]]:
    return [{"epoch": e, **{f"{m}.{k}": 1.0 / e for m in ("quantum", "classical")
                            for k in ("train_loss", "test_loss", "train_accuracy", "test_accuracy")}}
            for e in range(1, epochs + 1)]


def test_every_plot_is_a_png(tmp_path) -> None:
    labels = np.array([0, 1, 2, 1, 0])
    predictions = {"quantum": np.array([0, 2, 2, 1, 1]), "classical": labels.copy()}
    images = np.random.default_rng(1).random((5, 8, 8)).astype(np.float32)
    paths = write_plots(tmp_path, _history(3), images, labels, predictions, ("a", "b", "c"))
    assert [p.name for p in paths] == list(PLOTS)
    for path in paths:
        assert path.read_bytes()[:8] == PNG_SIGNATURE


def test_colour_images_and_no_mistakes_still_plot(tmp_path) -> None:
    labels = np.array([0, 1])
    images = np.zeros((2, 4, 4, 3), dtype=np.float32)
    paths = write_plots(tmp_path, _history(1), images, labels, {"quantum": labels, "classical": labels}, ("x", "y"))
    assert all(path.read_bytes()[:8] == PNG_SIGNATURE for path in paths)
