"""The ``qvec`` command line: one click group, one module per command.

Command modules import torch inside their commands only, so ``--help``, ``--version`` and
usage errors answer in a fraction of a second.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import warnings
from contextlib import contextmanager
from typing import Any, Iterator

import click

from qvec import __version__
from qvec.errors import BatchInterrupted, InputError, QvecError, Terminated

__all__ = ["main", "cli", "one_line"]


_LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
_EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C
_EXIT_TERMINATED = 143  # 128 + SIGTERM


def _debug_logs(ctx: click.Context, param: click.Parameter, verbose: bool) -> None:
    if verbose:
        logging.getLogger().setLevel(logging.DEBUG)


def _verbose_option() -> click.Option:
    """``-v/--verbose``, accepted by the group and by every command (``qvec -v run`` or ``qvec run -v``)."""
    return click.Option(["-v", "--verbose"], is_flag=True, expose_value=False, callback=_debug_logs,
                        help="Debug logs (never showing a key).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qvec")
def cli() -> None:
    """qvec: quantum machine learning in which every circuit execution is a batch."""


def _with_verbose(command: click.Command) -> click.Command:
    command.params.append(_verbose_option())
    for subcommand in getattr(command, "commands", {}).values():
        _with_verbose(subcommand)
    return command


def _register_commands() -> None:
    from . import bench, demo, emulator, jobs, run, train

    if cli.commands:
        return
    _with_verbose(cli)
    for module in (bench, demo, emulator, jobs, run, train):
        cli.add_command(_with_verbose(module.command))


def one_line(message: object) -> str:
    """A message on one line: what the CLI prints for an error or a warning."""
    return " ".join(str(message).split())


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    click.echo(f"warning: {one_line(message)}", err=True)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[list[int]]:
    """While the command runs, SIGTERM (kill, timeout, Slurm, docker stop) raises ``Terminated``, a
    ``KeyboardInterrupt``, so that the clean-up written for Ctrl-C runs; the list yielded records that it came."""
    received: list[int] = []

    def handler(signum: int, frame: object) -> None:
        received.append(signum)
        raise Terminated("terminated (SIGTERM)")

    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield received
        return
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield received
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    """Entry point: exit 0 on success, 2 for bad usage or input, 1 for anything else; 130 on Ctrl-C, 143 on SIGTERM."""
    _register_commands()
    logging.basicConfig(format=_LOG_FORMAT)
    logging.getLogger().setLevel(logging.WARNING)
    with warnings.catch_warnings(), _sigterm_as_interrupt() as sigterm:
        warnings.showwarning = _show_warning
        return _exit_status(argv, sigterm)


def _exit_status(argv: list[str] | None, sigterm: list[int]) -> int:
    """Run the command line; expected errors become one line on stderr and an exit status, others a traceback."""
    try:
        cli.main(args=argv, prog_name="qvec", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.Abort as exc:  # click's form of KeyboardInterrupt (and so of Terminated)
        return _interrupted(exc.__cause__, terminated=bool(sigterm))
    except QvecError as exc:
        click.echo(f"error: {one_line(exc)}", err=True)
        return 2 if isinstance(exc, InputError) else 1
    return 0


def _interrupted(cause: BaseException | None, terminated: bool) -> int:
    """One line for an interruption (a remote batch says what it canceled and kept), and 130 or 143."""
    terminated = terminated or isinstance(cause, Terminated)
    if isinstance(cause, BatchInterrupted) and str(cause):
        click.echo(one_line(cause), err=True)
    else:
        click.echo("terminated" if terminated else "interrupted", err=True)
    return _EXIT_TERMINATED if terminated else _EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
