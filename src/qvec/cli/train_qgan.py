"""``qvec train qgan``."""

from __future__ import annotations

import click

__all__ = ["command"]


@click.command("qgan")
def command() -> None:
    """Being built in this session."""
    raise click.ClickException("qvec train qgan is being built")
