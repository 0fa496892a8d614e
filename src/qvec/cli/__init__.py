"""The ``qvec`` command line: one click group, one module per command."""

from __future__ import annotations

import logging
import sys

import click

from qvec.errors import InputError, QvecError

__all__ = ["main", "cli"]


_LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


def _debug_logs(ctx: click.Context, param: click.Parameter, verbose: bool) -> None:
    if verbose:
        logging.getLogger().setLevel(logging.DEBUG)


def _verbose_option() -> click.Option:
    """``-v/--verbose``, accepted by the group and by every command (``qvec -v run`` or ``qvec run -v``)."""
    return click.Option(["-v", "--verbose"], is_flag=True, expose_value=False, callback=_debug_logs,
                        help="Debug logs (never showing a key).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="qvec")
def cli() -> None:
    """qvec: quantum machine learning in which every circuit execution is a batch."""


def _with_verbose(command: click.Command) -> click.Command:
    command.params.append(_verbose_option())
    for subcommand in getattr(command, "commands", {}).values():
        _with_verbose(subcommand)
    return command


def _register_commands() -> None:
    from . import bench, demo, emulator, run

    if cli.commands:
        return
    _with_verbose(cli)
    for module in (bench, demo, emulator, run):
        cli.add_command(_with_verbose(module.command))


def main(argv: list[str] | None = None) -> int:
    """Entry point: exit 0 on success, 2 for bad usage or input, 1 for anything else."""
    _register_commands()
    logging.basicConfig(format=_LOG_FORMAT)
    logging.getLogger().setLevel(logging.WARNING)
    try:
        cli.main(args=argv, prog_name="qvec", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.Abort:
        click.echo("interrupted", err=True)
        return 130
    except InputError as exc:
        click.echo(f"error: {exc}", err=True)
        return 2
    except QvecError as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
