"""``qvec jobs``: the remote job journal (list, show, resume, cancel, prune).

This module holds the options only, so that ``--help`` and bad arguments answer at once;
``jobs_actions`` opens the journal and talks to the server.
"""

from __future__ import annotations

import re
from typing import Any, Callable

import click

__all__ = ["command", "parse_duration"]

_UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(ctx: click.Context | None, param: click.Parameter | None, text: str) -> float:
    """``"7d"`` -> seconds; a number followed by s, m, h, d or w."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text.lower())
    if match is None:
        raise click.BadParameter(f"{text!r} is not a duration such as 30m, 12h, 7d or 2w", ctx, param)
    return float(match.group(1)) * _UNITS_S[match.group(2)]


def _journal_options(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(function)
    return click.option("--journal", type=click.Path(dir_okay=False), default=None,
                        help="The journal file (default: $QVEC_JOURNAL, else journal.sqlite in the per-user data "
                             "directory).")(function)


@click.group("jobs")
def command() -> None:
    """The journal of remote jobs: every IonQ batch, its jobs and their results.

    A batch run again (same circuits, shots, target, options and server) reuses what the journal holds;
    these commands inspect it, finish or cancel a batch a killed program left, and prune old ones.
    """


@command.command("list")
@_journal_options
def list_batches(journal: str | None, as_json: bool) -> None:
    """List the batches in the journal, newest first."""
    from .jobs_actions import list_batches as run

    run(journal, as_json)


@command.command("show")
@click.argument("batch_id")
@_journal_options
def show(batch_id: str, journal: str | None, as_json: bool) -> None:
    """Show one batch (an id or a unique prefix) and each of its jobs."""
    from .jobs_actions import show as run

    run(journal, batch_id, as_json)


@command.command("resume")
@click.argument("batch_id")
@click.option("--api-key-file", type=click.Path(exists=True, dir_okay=False),
              help="File holding the IonQ API key (default: $IONQ_API_KEY or .env).")
@_journal_options
def resume(batch_id: str, api_key_file: str | None, journal: str | None, as_json: bool) -> None:
    """Finish a batch a stopped program left: poll its jobs in flight, submit the rest, keep the results.

    The program's next run of the same batch then takes every result from the journal.
    """
    from .jobs_actions import resume as run

    run(journal, batch_id, api_key_file, as_json)


@command.command("cancel")
@click.argument("batch_id")
@click.option("--api-key-file", type=click.Path(exists=True, dir_okay=False),
              help="File holding the IonQ API key (default: $IONQ_API_KEY or .env).")
@_journal_options
def cancel(batch_id: str, api_key_file: str | None, journal: str | None, as_json: bool) -> None:
    """Cancel a batch's jobs in flight on the server; results of jobs that completed are kept."""
    from .jobs_actions import cancel as run

    run(journal, batch_id, api_key_file, as_json)


@command.command("prune")
@click.option("--older-than", "older_than", required=True, metavar="DURATION",
              callback=parse_duration,
              help="Delete batches not updated for this long: 30m, 12h, 7d, 2w.")
@_journal_options
def prune(older_than: float, journal: str | None, as_json: bool) -> None:
    """Delete old finished batches; batches with jobs that may still run on the server are kept."""
    from .jobs_actions import prune as run

    run(journal, older_than, as_json)
