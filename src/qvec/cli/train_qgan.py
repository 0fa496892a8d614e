"""``qvec train qgan``: the CV quantum GAN, trained on the local Fock simulator with plots and checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .options import dask_backend, dask_scheduler_option

__all__ = ["command"]

# The library's names (qvec.apps.qgan.targets.TARGETS, generator.READOUTS), spelled here so that --help does
# not import torch; a test keeps the two the same.
TARGET_NAMES = ("gaussian", "bimodal", "trimodal", "gaussian2d", "ring", "correlated", "four_gaussians")
READOUTS = ("density", "sample", "mean")


def _options(function: Any) -> Any:
    options = [
        click.option("--target", type=click.Choice(TARGET_NAMES), default="gaussian", show_default=True,
                     help="Built-in target distribution (1-D: gaussian, bimodal, trimodal; 2-D: the others)."),
        click.option("--target-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="A .npy file of samples, shape [N] or [N, d] with d = 1 or 2 (replaces --target)."),
        click.option("--modes", type=click.IntRange(1), default=None,
                     help="Modes of the generator; those beyond the target's coordinates are ancillas, traced out."),
        click.option("--layers", type=click.IntRange(1), default=2, show_default=True, help="CV layers."),
        click.option("--cutoff", type=click.IntRange(2), default=12, show_default=True, help="Fock cutoff."),
        click.option("--readout", type=click.Choice(READOUTS), default="density", show_default=True,
                     help="density: exact expectation over the quadrature density; sample: homodyne draws "
                          "(score-function gradient); mean: <x> per latent row."),
        click.option("--latent-dim", type=click.IntRange(0), default=None,
                     help="Latent values, each displacing one mode (default: one per coordinate; 0: no noise)."),
        click.option("--epochs", type=click.IntRange(1), default=20, show_default=True),
        click.option("--steps-per-epoch", type=click.IntRange(1), default=20, show_default=True,
                     help="Generator steps per epoch."),
        click.option("--batch-size", type=click.IntRange(1), default=64, show_default=True),
        click.option("--g-lr", type=click.FloatRange(min=0, min_open=True), default=0.02, show_default=True,
                     help="Generator (circuit) learning rate, Adam."),
        click.option("--d-lr", type=click.FloatRange(min=0, min_open=True), default=0.002, show_default=True,
                     help="Critic learning rate, Adam."),
        click.option("--lr-final", type=click.FloatRange(min=0, max=1, min_open=True), default=0.1,
                     show_default=True, help="Both learning rates decay linearly to this fraction at the last epoch."),
        click.option("--n-critic", type=click.IntRange(1), default=5, show_default=True,
                     help="Critic steps per generator step."),
        click.option("--gp-weight", type=click.FloatRange(min=0), default=10.0, show_default=True,
                     help="Weight of the (one-sided) gradient penalty."),
        click.option("--norm-weight", type=click.FloatRange(min=0), default=10.0, show_default=True,
                     help="Weight of the generator's lost norm (truncation) in its loss."),
        click.option("--grid-points", type=click.IntRange(8), default=None,
                     help="Quadrature grid points per coordinate (default 160 in 1-D, 48 in 2-D)."),
        click.option("--plot-every", type=click.IntRange(1), default=5, show_default=True,
                     help="Write plots every N epochs (and after the last)."),
        click.option("--seed", type=int, default=0, show_default=True),
        click.option("--threads", type=click.IntRange(1), default=1, show_default=True,
                     help="Torch threads; the GAN's tensors are small, where one thread is fastest."),
        click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("qgan-run"),
                     show_default=True, help="Run folder: config, metrics (JSON, CSV), checkpoint, plots."),
        click.option("--resume", is_flag=True, help="Continue the run in --out from its last checkpoint."),
        dask_scheduler_option(),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.command("qgan")
@_options
def command(out: Path, resume: bool, threads: int, target_file: Path | None, dask_scheduler: str | None,
            **settings: Any) -> None:
    """Train a continuous-variable quantum GAN (WGAN with gradient penalty) on a 1-D or 2-D target.

    Writes config.json, metrics.json/.csv and checkpoint.pt every epoch, and distribution, loss and W1
    plots (PNG) with a GIF of training. Ctrl-C keeps the last completed epoch; --resume continues it.
    """
    import torch

    from qvec.apps.qgan.plots import EpochPlots
    from qvec.apps.qgan.training import QGANConfig, train

    torch.set_num_threads(threads)
    config = QGANConfig(target_file=str(target_file) if target_file else None, **settings)
    plots = EpochPlots(out, config.plot_every, config.epochs)
    display = _TrainingDisplay(config.epochs, config.steps_per_epoch)
    with dask_backend(dask_scheduler) as backend, display.progress:
        result = train(config, out, resume=resume, on_step=display.step,
                       on_epoch=lambda view: (plots(view), display.epoch(view.row)), backend=backend)
    gif = plots.finish() if result.history else None
    display.progress.console.print(_summary_table(result, gif))
    if result.interrupted:
        click.echo(result.kept, err=True)
        raise click.Abort()


class _TrainingDisplay:
    """A rich progress bar over all generator steps, showing the latest losses and W1."""

    def __init__(self, epochs: int, steps_per_epoch: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        columns = [TextColumn("epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("critic {task.fields[critic]:+.4f}  generator {task.fields[generator]:+.4f}  "
                              "W1 {task.fields[w1]:.4f}"), TimeElapsedColumn()]
        self.progress = Progress(*columns)
        self.steps_per_epoch = steps_per_epoch
        self.task = self.progress.add_task("qgan", total=epochs * steps_per_epoch, epoch=0, critic=float("nan"),
                                           generator=float("nan"), w1=float("nan"))

    def step(self, epoch: int, step: int, losses: dict[str, float]) -> None:
        done = (epoch - 1) * self.steps_per_epoch + step
        self.progress.update(self.task, completed=done, epoch=epoch, critic=losses["critic_loss"],
                             generator=losses["generator_loss"])

    def epoch(self, row: dict[str, Any]) -> None:
        self.progress.update(self.task, w1=row["w1"])


def _summary_table(result: Any, gif: Path | None) -> Any:
    """The final summary: the last epoch's metrics beside the target's, and where the files are."""
    from rich.table import Table

    table = Table(title=f"qvec train qgan: {result.target.name} ({result.target.description})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    if not result.history:
        table.add_row("epochs completed", "0")
        return table
    last = result.history[-1]
    for key, value in last.items():
        table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    table.add_row("best w1", f"{min(row['w1'] for row in result.history):.4f}")
    table.add_row("run folder", str(result.out))
    if gif is not None:
        table.add_row("animation", str(gif))
    return table
