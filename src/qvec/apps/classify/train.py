"""Training the quantum classifier and its classical twin side by side, epoch by epoch, resumable.

Both models see the same features, batch size, learning rate, epochs and seed; each has its own shuffling
generator, so neither's draws depend on the other. Metrics rows carry ``quantum.<metric>`` and
``classical.<metric>`` keys (``train_loss``, ``train_accuracy``, ``test_loss``, ``test_accuracy``, ``seconds``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn

from qvec.errors import InputError

from ..runlog import RunDir, defer_interrupts
from .data import ImageDataset

__all__ = ["PREPROCESSING", "FeatureSet", "TrainConfig", "TrainingOutcome", "make_features", "train_models"]

PREPROCESSING = ("pca", "linear")
StepHook = Callable[[str, int, int, float], None]  # model name, step, steps in the epoch, batch loss


@dataclass(frozen=True)
class FeatureSet:
    """What the models see: features ``[N, F]`` (float32) and labels, for the train and the test images."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor

    @property
    def features(self) -> int:
        return self.train_x.shape[1]


def make_features(train: ImageDataset, test: ImageDataset, preprocess: str, features: int) -> FeatureSet:
    """``pca``: the first ``features`` principal components of the train images, whitened (fitted on train
    only); ``linear``: the raw pixels, projected by the models' own first Linear."""
    if preprocess not in PREPROCESSING:
        raise InputError(f"unknown preprocessing {preprocess!r}; accepted: {', '.join(PREPROCESSING)}")
    train_x, test_x = train.flat(), test.flat()
    if preprocess == "pca":
        from sklearn.decomposition import PCA

        if not 1 <= features <= min(train_x.shape):
            raise InputError(f"--features {features}: PCA of {train_x.shape[0]} train images of {train_x.shape[1]} "
                             f"pixels gives 1 to {min(train_x.shape)} components")
        pca = PCA(n_components=features, whiten=True, svd_solver="full").fit(train_x)
        train_x, test_x = pca.transform(train_x), pca.transform(test_x)
    return FeatureSet(_float_tensor(train_x), torch.as_tensor(train.labels), _float_tensor(test_x),
                      torch.as_tensor(test.labels))


def _float_tensor(array: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(array), dtype=torch.float32)


@dataclass(frozen=True)
class TrainConfig:
    """How the models are trained (the same for both)."""

    epochs: int
    batch_size: int = 32
    learning_rate: float = 0.01
    seed: int = 0


@dataclass
class TrainingOutcome:
    """The metrics rows of every epoch (resumed ones included) and each model's test predictions at the end."""

    history: list[dict[str, float]]
    predictions: dict[str, np.ndarray] = field(default_factory=dict)
    epochs_run: int = 0


def _generators(models: dict[str, nn.Module], seed: int) -> dict[str, torch.Generator]:
    return {name: torch.Generator().manual_seed(seed) for name in models}


def _layer_draws(models: dict[str, nn.Module]) -> list[torch.Generator]:
    """The generators QuantumLayers draw shots and SPSA directions from: checkpointed so a resume replays them."""
    from qvec.nn import QuantumLayer

    return [m.draws for model in models.values() for m in model.modules()
            if isinstance(m, QuantumLayer) and m.draws is not None]


def _train_epoch(name: str, model: nn.Module, optimizer: torch.optim.Optimizer, data: FeatureSet,
                 batch_size: int, generator: torch.Generator, on_step: StepHook | None) -> dict[str, float]:
    """One pass over the shuffled train set; the mean loss and the accuracy of the batches as they were seen."""
    model.train()
    batches = torch.randperm(len(data.train_y), generator=generator).split(batch_size)
    loss_sum, correct = 0.0, 0
    for step, batch in enumerate(batches, start=1):
        optimizer.zero_grad()
        logits = model(data.train_x[batch])
        loss = nn.functional.cross_entropy(logits, data.train_y[batch])
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * len(batch)
        correct += int((logits.argmax(1) == data.train_y[batch]).sum())
        if on_step is not None:
            on_step(name, step, len(batches), loss.item())
    n = len(data.train_y)
    return {"train_loss": loss_sum / n, "train_accuracy": correct / n}


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[dict[str, float], np.ndarray]:
    """Test loss and accuracy, and the predicted classes; the whole test set runs as one batch."""
    model.eval()
    with torch.no_grad():
        logits = model(x)
    predicted = logits.argmax(1)
    metrics = {"test_loss": nn.functional.cross_entropy(logits, y).item(),
               "test_accuracy": float((predicted == y).float().mean())}
    return metrics, predicted.numpy()


def train_models(models: dict[str, nn.Module], data: FeatureSet, config: TrainConfig, run: RunDir | None = None,
                 on_step: StepHook | None = None,
                 on_epoch: Callable[[dict[str, float]], None] | None = None) -> TrainingOutcome:
    """Train every model for ``config.epochs`` (continuing ``run``'s checkpoint, if any); after each epoch the
    row goes to ``run`` with a checkpoint. A Ctrl-C mid-epoch propagates and that epoch is discarded."""
    optimizers = {name: torch.optim.Adam(model.parameters(), lr=config.learning_rate) for name, model in models.items()}
    generators = _generators(models, config.seed)
    all_generators = [*generators.values(), *_layer_draws(models)]
    history: list[dict[str, float]] = []
    if run is not None and (state := run.load_checkpoint(all_generators)) is not None:
        for name, model in models.items():
            model.load_state_dict(state["models"][name])
            optimizers[name].load_state_dict(state["optimizers"][name])
        history = list(run.history)
    outcome = TrainingOutcome(history)
    for epoch in range(len(history) + 1, config.epochs + 1):
        row: dict[str, float] = {"epoch": epoch}
        for name, model in models.items():
            started = time.perf_counter()
            metrics = _train_epoch(name, model, optimizers[name], data, config.batch_size, generators[name], on_step)
            test_metrics, outcome.predictions[name] = evaluate(model, data.test_x, data.test_y)
            metrics.update(test_metrics, seconds=time.perf_counter() - started)
            row.update({f"{name}.{key}": value for key, value in metrics.items()})
        history.append(row)
        outcome.epochs_run += 1
        if run is not None:
            state = {"models": {n: m.state_dict() for n, m in models.items()},
                     "optimizers": {n: o.state_dict() for n, o in optimizers.items()}}
            with defer_interrupts():
                run.end_epoch(row, state, all_generators)
        if on_epoch is not None:
            on_epoch(row)
    if not outcome.predictions:  # nothing left to train: predict from the checkpointed models
        outcome.predictions = {name: evaluate(model, data.test_x, data.test_y)[1] for name, model in models.items()}
    return outcome
