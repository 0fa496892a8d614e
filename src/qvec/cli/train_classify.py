"""``qvec train classify``."""

from __future__ import annotations

import click

__all__ = ["command"]


@click.command("classify")
def command() -> None:
    """Being built in this session."""
    raise click.ClickException("qvec train classify is being built")
