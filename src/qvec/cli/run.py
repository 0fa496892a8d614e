"""``qvec run FILE...``: run OpenQASM 2 (``.qasm``) and Blackbird (``.xbb``) files as one batch.

This module holds the options only, so that ``qvec run --help`` and bad arguments answer without
importing torch; ``run_batch`` loads and runs the files, ``run_tables`` prints them.
"""

from __future__ import annotations

import json
import math

import click

from .options import dask_scheduler_option

__all__ = ["command"]

DEFAULT_TOP = 16


def _parse_params(ctx: click.Context | None, option: click.Parameter | None, values: tuple[str, ...]) -> dict[str, list[float]]:
    """``("alpha=0.1", "theta=0.1,0.2")`` -> ``{"alpha": [0.1], "theta": [0.1, 0.2]}``; lists longer than one must agree."""
    parsed: dict[str, list[float]] = {}
    for text in values:
        name, equals, listing = (part.strip() for part in text.partition("="))
        if not equals or not name.isidentifier():
            raise click.BadParameter(f"{text!r} is not NAME=VALUE", ctx, option)
        if name in parsed:
            raise click.BadParameter(f"{name} is given twice; give one value or a comma-separated list", ctx, option)
        parsed[name] = [_number(name, value, ctx, option) for value in listing.split(",")]
    lengths = {name: len(numbers) for name, numbers in parsed.items() if len(numbers) > 1}
    if len(set(lengths.values())) > 1:
        listing = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise click.BadParameter(f"value lists must have the same length: {listing}", ctx, option)
    return parsed


def _number(name: str, text: str, ctx: click.Context | None, option: click.Parameter | None) -> float:
    try:
        value = float(text)
    except ValueError:
        raise click.BadParameter(f"{name}={text.strip() or '(empty)'}: not a number", ctx, option) from None
    if not math.isfinite(value):
        raise click.BadParameter(f"{name}={text.strip()}: values must be finite", ctx, option)
    return value


@click.command("run")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--backend", type=click.Choice(["local", "ionq"]), default="local", show_default=True,
              help="Where the qubit circuits run (.xbb files run locally only).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE[,VALUE...]", callback=_parse_params,
              help="Bind a free parameter of the .xbb files (repeatable). A comma-separated list makes a batch of "
                   "that many rows; a single value is shared by every row.")
@click.option("--shots", type=click.IntRange(min=1), default=None,
              help="Also sample N shots: basis states of qubit circuits, photon numbers of .xbb programs.")
@click.option("--seed", type=int, default=None, help="Seed for sampling shots: the same seed gives the same counts.")
@click.option("--cutoff", type=click.IntRange(min=1), default=None, help="Fock cutoff for .xbb files (overrides the file's).")
@click.option("--renormalize", is_flag=True,
              help="Rescale Fock states that lost norm to the cutoff (a warning reports the loss either way).")
@click.option("--top", type=click.IntRange(min=1), default=DEFAULT_TOP, show_default=True,
              help="Table rows per result: the most counted states with --shots, else the most likely.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON list, one object per file (per row with --param lists).")
@click.option("--api-key-file", type=click.Path(exists=True, dir_okay=False),
              help="File holding the IonQ API key (default: $IONQ_API_KEY or .env).")
@click.option("--base-url", default=None, help="IonQ API base, e.g. http://127.0.0.1:PORT/v0.4 (default: $IONQ_BASE_URL).")
@click.option("--target", default=None, help="IonQ target, e.g. simulator or qpu.aria-1 (default: $IONQ_TARGET or simulator).")
@click.option("--journal", type=click.Path(dir_okay=False), default=None,
              help="Job journal of --backend ionq: a rerun reuses what completed (default: $QVEC_JOURNAL, else the "
                   "per-user data directory; see qvec jobs).")
@click.option("--no-journal", is_flag=True, help="Run --backend ionq without the job journal.")
@dask_scheduler_option()
def command(files: tuple[str, ...], backend: str, params: dict[str, list[float]], shots: int | None, seed: int | None,
            cutoff: int | None, renormalize: bool, top: int, as_json: bool, api_key_file: str | None,
            base_url: str | None, target: str | None, journal: str | None, no_journal: bool,
            dask_scheduler: str | None) -> None:
    """Run OpenQASM 2 and Blackbird files as one batch and print their probabilities.

    \b
    --json prints one list, one object per file in the order given:
      .qasm: {"file", "n_qubits", "probabilities"} (qubit 0 the least significant bit of the index),
             plus "counts" {"<state index>": count} with --shots;
      .xbb:  {"file", "n_modes", "cutoff", "fock_probabilities" (row-major, mode 0 slowest),
             "mean_photon"}, plus "counts" {"<index into fock_probabilities>": count} with --shots.
    A .xbb file with free parameters gives one object per parameter row, in row order, each with
    "params" (the values bound in that row): --param theta=0.1,0.2,0.3 gives three objects.
    """
    from qvec.backends.ionq.journal_file import DEFAULT_JOURNAL

    from .run_batch import IonQOptions, RunOptions, run_files

    if journal is not None and no_journal:
        raise click.UsageError("--journal and --no-journal contradict each other")
    ionq = IonQOptions(api_key_file, base_url, target, None if no_journal else journal or DEFAULT_JOURNAL)
    if backend == "local" and (ionq.given() or journal is not None or no_journal):
        raise click.UsageError("--api-key-file, --base-url, --target, --journal and --no-journal apply to "
                               "--backend ionq")
    if backend == "ionq" and dask_scheduler:
        raise click.UsageError("--dask-scheduler runs on the workers' local simulators; it does not combine "
                               "with --backend ionq (unset QVEC_DASK_SCHEDULER if it came from there)")
    results = run_files(files, backend, params, RunOptions(shots, seed, cutoff, renormalize, dask_scheduler or None),
                        ionq)
    if as_json:
        click.echo(json.dumps([result.to_json() for result in results]))
    else:
        from .run_tables import print_tables
        print_tables(results, top)
