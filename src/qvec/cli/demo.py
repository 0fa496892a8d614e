"""``qvec demo``: train the two-moons variational classifier on the local simulator."""

from __future__ import annotations

import click

__all__ = ["command"]


@click.command("demo")
@click.option("--epochs", type=click.IntRange(1), default=60, show_default=True, help="Training epochs.")
@click.option("--seed", type=int, default=0, show_default=True, help="Torch seed for the split and the initial weights.")
def command(epochs: int, seed: int) -> None:
    """Train a 2-qubit classifier on the bundled two-moons data and print its accuracy.

    Ctrl-C (or SIGTERM) stops training, prints what was reached and exits 130 (143).
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from qvec.apps.moons import train_classifier

    console = Console()
    console.print("Training a 2-qubit data re-uploading classifier on two moons (160 train / 40 test points).")
    columns = [TextColumn("epoch"), MofNCompleteColumn(), BarColumn(), TextColumn("loss {task.fields[loss]:.4f}"), TimeElapsedColumn()]
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("train", total=epochs, loss=float("nan"))
        result = train_classifier(epochs, seed, progress=lambda epoch, loss: progress.update(task, completed=epoch, loss=loss))
    if result.interrupted:
        console.print(f"[yellow]stopped after epoch {result.epochs_run}[/yellow]")
    console.print(f"final loss {result.final_loss:.4f}   train accuracy {result.train_accuracy:.1%}   "
                  f"test accuracy {result.test_accuracy:.1%}")
    if result.interrupted:
        raise click.Abort()
