"""``qvec demo``: the image classifier's quick test, as ``make demo`` runs it."""

from __future__ import annotations

import click

__all__ = ["command"]


@click.command("demo")
@click.option("--out", type=click.Path(file_okay=False), default="runs/demo", show_default=True,
              help="Folder for config, metrics, checkpoint and plots.")
@click.option("--epochs", type=click.IntRange(1), default=None, help="Epochs [default: 2].")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its last completed epoch.")
@click.pass_context
def command(ctx: click.Context, out: str, epochs: int | None, resume: bool) -> None:
    """The hybrid classifier's quick test on the bundled digits, locally: qvec train classify --quick-test.

    Ctrl-C (or SIGTERM) keeps the completed epochs and exits 130 (143); --resume continues.
    """
    from . import train_classify

    ctx.invoke(train_classify.command, quick_test=True, out=out, epochs=epochs, resume=resume)
