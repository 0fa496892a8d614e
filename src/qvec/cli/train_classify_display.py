"""What ``qvec train classify`` does with its flags: options, backend, a progress bar per epoch, the summary."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from qvec.apps.classify.app import QUICK_TEST, ClassifierOptions, ClassifierRun, open_run, prepare, run_classifier

from .options import dask_backend

__all__ = ["train_from_flags", "classifier_options"]

_OPTION_FLAGS = ("dataset", "data", "image_size", "grey", "preprocess", "features", "qubits", "layers", "encoder",
                 "diff_method", "shots", "batch_size", "learning_rate", "seed", "train_samples", "test_samples")


def classifier_options(flags: dict[str, Any]) -> ClassifierOptions:
    """The run's options from the flags: --quick-test's subset and epochs unless given, the template's and the
    backend's defaults."""
    if flags["no_mock"] and flags["backend"] == "local":
        raise click.UsageError("--no-mock runs on IonQ: it does not combine with --backend local")
    ionq = flags["no_mock"] or flags["backend"] == "ionq"
    if flags["dask_scheduler"] and ionq:
        raise click.UsageError("--dask-scheduler runs on the workers' local simulators; it does not combine with "
                               "IonQ (unset QVEC_DASK_SCHEDULER if it came from there)")
    options = ClassifierOptions(**{name: flags[name] for name in _OPTION_FLAGS},
                                template=flags["template"] or (None if flags["encoder"] == "reuploading"
                                                               else "strongly-entangling"),
                                backend="ionq" if ionq else "dask" if flags["dask_scheduler"] else "local")
    if flags["quick_test"]:
        options = replace(options, **{key: value if flags[key] is None else flags[key] for key, value in QUICK_TEST.items()})
    return options if flags["epochs"] is None else replace(options, epochs=flags["epochs"])


def _backend(name: str) -> Any:
    """``None`` (the local simulator) or an IonQ backend from the environment (.env honoured), its own progress
    bar off (ours is on screen) and its round of jobs logged at INFO."""
    if name == "local":
        return None
    from qvec.backends import IonQBackend

    ionq_logger = logging.getLogger("qvec.backends.ionq")
    if ionq_logger.getEffectiveLevel() > logging.INFO:
        ionq_logger.setLevel(logging.INFO)
    return IonQBackend(progress=False)


class _EpochDisplay:
    """A bar per model during an epoch, a line per finished epoch."""

    def __init__(self, progress: Progress, epochs: int, epochs_done: int) -> None:
        self.progress, self.epochs = progress, epochs
        self.tasks: dict[str, TaskID] = {}
        self.epoch = epochs_done

    def step(self, name: str, step: int, steps: int, loss: float) -> None:
        if name not in self.tasks:
            self.tasks[name] = self.progress.add_task(f"{name:9} epoch {self.epoch + 1}/{self.epochs}", total=steps,
                                                      loss=loss)
        self.progress.update(self.tasks[name], completed=step, loss=loss)

    def end_epoch(self, row: dict[str, float]) -> None:
        for task in self.tasks.values():
            self.progress.remove_task(task)
        self.tasks.clear()
        self.epoch = int(row["epoch"])
        parts = [f"{name} loss {row[f'{name}.train_loss']:.3f} test {row[f'{name}.test_accuracy']:.1%}"
                 for name in ("quantum", "classical")]
        self.progress.console.print(f"epoch {self.epoch}/{self.epochs}  " + "  |  ".join(parts))


def _summary(history: list[dict[str, float]], models: dict[str, Any]) -> Table:
    """The last epoch of each model side by side, with its trainable parameters and mean seconds per epoch."""
    table = Table(title=f"after {len(history)} epoch(s)")
    for column in ("model", "parameters", "train accuracy", "test accuracy", "test loss", "s / epoch"):
        table.add_column(column, justify="left" if column == "model" else "right")
    last = history[-1]
    for name, model in models.items():
        seconds = sum(row[f"{name}.seconds"] for row in history) / len(history)
        parameters = sum(p.numel() for p in model.parameters() if p.requires_grad)
        table.add_row(name, str(parameters), f"{last[f'{name}.train_accuracy']:.1%}",
                      f"{last[f'{name}.test_accuracy']:.1%}", f"{last[f'{name}.test_loss']:.3f}", f"{seconds:.2f}")
    return table


def _header(options: ClassifierOptions, prepared: ClassifierRun) -> str:
    features = prepared.features
    return (f"{options.dataset}: {len(features.train_y)} train / {len(features.test_y)} test images, "
            f"{len(prepared.classes)} classes, {features.features} features; {options.qubits} qubits ({options.encoder}, "
            f"{options.template or 'reuploading'} x {options.layers}) on {options.backend} vs a classical bottleneck "
            f"of {options.qubits}")


def train_from_flags(flags: dict[str, Any]) -> None:
    """Run with ``--threads`` torch threads (the caller's number restored after)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(flags["threads"])
    try:
        _train(flags)
    finally:
        torch.set_num_threads(previous)


def _train(flags: dict[str, Any]) -> None:
    """Prepare, train with a progress bar, and print the summary; Ctrl-C says what was kept, then exits 130."""
    options = classifier_options(flags)
    with dask_backend(flags["dask_scheduler"]) as dask:
        _train_on(options, flags, _backend(options.backend) if dask is None else dask)


def _train_on(options: ClassifierOptions, flags: dict[str, Any], backend: Any) -> None:
    prepared = prepare(options, backend)
    run = open_run(prepared, flags["out"], flags["resume"])
    console = Console()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]:.3f}"),
               TimeElapsedColumn())
    try:  # from here on, an interrupt says what the run folder kept
        console.print(_header(options, prepared))
        with Progress(*columns, console=console) as progress:
            display = _EpochDisplay(progress, options.epochs, run.epochs_done)
            outcome, plots = run_classifier(prepared, run, display.step, display.end_epoch)
    except KeyboardInterrupt:
        console.print(run.kept_message())
        raise
    if outcome.history:
        console.print(_summary(outcome.history, prepared.models))
    console.print(f"wrote {run.path}/: config.json, metrics.json, metrics.csv, checkpoint.pt, "
                  + ", ".join(p.name for p in plots))
