"""``qvec train``: the two applications, each trained end to end with real gradients."""

from __future__ import annotations

import click

from . import train_classify, train_qgan

__all__ = ["command"]


@click.group("train")
def command() -> None:
    """Train an application: ``classify`` (hybrid image classifier) or ``qgan`` (CV quantum GAN)."""


command.add_command(train_classify.command)
command.add_command(train_qgan.command)
