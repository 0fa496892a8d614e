"""The classifier end to end, as ``qvec train classify`` runs it: data, split, features, both models, training
into a run folder, plots. The training takes any backend object (local, IonQ, Dask) and passes it through."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from ..runlog import RunDir
from .data import load_dataset, stratified_split
from .model import ModelConfig, build_models
from .plots import write_plots
from .train import StepHook, TrainConfig, TrainingOutcome, make_features, train_models

__all__ = ["ClassifierOptions", "QUICK_TEST", "ClassifierRun", "open_run", "prepare", "run_classifier"]

# --quick-test: a stratified subset and two epochs, enough to exercise every part in seconds locally.
QUICK_TEST = {"train_samples": 256, "test_samples": 128, "epochs": 2}


@dataclass(frozen=True)
class ClassifierOptions:
    """Every setting of a run; all but ``epochs`` change its result, so a resume must repeat them."""

    dataset: str = "digits"
    data: str | None = None
    image_size: int = 28
    grey: bool = True
    preprocess: str = "pca"
    features: int = 32
    train_samples: int | None = None
    test_samples: int | None = None
    test_fraction: float = 0.2
    qubits: int = 8
    layers: int = 3
    encoder: str = "angle"
    template: str | None = "strongly-entangling"
    diff_method: str = "best"
    shots: int | None = None
    epochs: int = 40
    batch_size: int = 32
    learning_rate: float = 0.01
    seed: int = 0
    backend: str = "local"


@dataclass
class ClassifierRun:
    """A prepared run: the data, the models and how they train."""

    options: ClassifierOptions
    test_images: Any
    test_labels: Any
    classes: tuple[str, ...]
    features: Any
    models: dict[str, Any]
    train_config: TrainConfig


def prepare(options: ClassifierOptions, backend: Any = None) -> ClassifierRun:
    """Load and split the data, compute the features and build both models (all checked before training)."""
    data = load_dataset(options.dataset, options.data, image_size=options.image_size, grey=options.grey)
    train, test = stratified_split(data, test_fraction=options.test_fraction, seed=options.seed,
                                   train_size=options.train_samples, test_size=options.test_samples)
    features = make_features(train, test, options.preprocess, options.features)
    config = ModelConfig(features=features.features, classes=len(data.classes), qubits=options.qubits,
                         layers=options.layers, encoder=options.encoder, template=options.template,
                         diff_method=options.diff_method, shots=options.shots)
    train_config = TrainConfig(options.epochs, options.batch_size, options.learning_rate, options.seed)
    return ClassifierRun(options, test.images, test.labels, data.classes, features,
                         build_models(config, backend, options.seed), train_config)


def open_run(prepared: ClassifierRun, out: Path | str, resume: bool) -> RunDir:
    """The run folder for ``prepared``: its options are the config a resume must repeat."""
    return RunDir(out, asdict(prepared.options), resume=resume)


def run_classifier(prepared: ClassifierRun, run: RunDir, on_step: StepHook | None = None,
                   on_epoch: Callable[[dict[str, float]], None] | None = None) -> tuple[TrainingOutcome, list[Path]]:
    """Train into ``run`` (continuing its checkpoint, if any) and write the plots there."""
    outcome = train_models(prepared.models, prepared.features, prepared.train_config, run, on_step, on_epoch)
    plots = write_plots(run.path, outcome.history, prepared.test_images, prepared.test_labels, outcome.predictions,
                        prepared.classes)
    return outcome, plots
