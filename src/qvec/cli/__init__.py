"""The ``qvec`` command line: one click group, one module per command."""

from __future__ import annotations

import logging
import sys

import click

from qvec.errors import InputError, QvecError

__all__ = ["main", "cli"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Debug logs (never showing a key).")
@click.version_option(package_name="qvec")
def cli(verbose: bool) -> None:
    """qvec: quantum machine learning in which every circuit execution is a batch."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def _register_commands() -> None:
    from . import bench, demo, emulator, run

    for module in (bench, demo, emulator, run):
        cli.add_command(module.command)


def main(argv: list[str] | None = None) -> int:
    """Entry point: exit 0 on success, 2 for bad usage or input, 1 for anything else."""
    _register_commands()
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
