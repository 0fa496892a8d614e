"""``qvec jobs``: the remote job journal (list, show, resume, cancel, prune)."""

from __future__ import annotations

import click

__all__ = ["command"]


@click.group("jobs")
def command() -> None:
    """The journal of remote jobs."""
