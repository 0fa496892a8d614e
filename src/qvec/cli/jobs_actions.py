"""What ``qvec jobs`` does once its options are parsed: read the journal, print it, resume or cancel a batch."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime
from typing import Iterator

import click
from rich.console import Console
from rich.table import Table

from qvec.backends.ionq.journal import BatchInfo, BatchRecord, JobJournal
from qvec.backends.ionq.journal_file import DEFAULT_JOURNAL, journal_path
from qvec.backends.ionq.runner import BatchRun, JobRunner
from qvec.backends.ionq.strategies import run_sync
from qvec.errors import InputError, format_indices

from .run_batch import IonQOptions

__all__ = ["list_batches", "show", "resume", "cancel", "prune"]

# Width of the tables when stdout is not a terminal (a pipe, a file): wide enough that no id is wrapped.
_PIPE_WIDTH = 200


def _open(journal: str | None, must_exist: bool = True) -> JobJournal | None:
    """The journal of ``--journal`` (else the default); ``None`` when it does not exist yet and need not."""
    path = journal_path(DEFAULT_JOURNAL if journal is None else journal)
    if path is None:
        raise InputError("the job journal is turned off (QVEC_JOURNAL=off); name one with --journal PATH")
    if not path.exists():
        if must_exist:
            raise InputError(f"no job journal at {path} (set --journal or QVEC_JOURNAL)")
        return None
    return JobJournal(path)


@contextmanager
def _claimed(journal: str | None, batch_id: str) -> Iterator[tuple[JobJournal, BatchInfo, BatchRecord]]:
    """A batch taken for this command, released afterwards whatever happens."""
    with _open(journal) as opened:
        info, record = opened.claim_id(batch_id)
        try:
            yield opened, info, record
        finally:
            record.release(delivered=False)


def list_batches(journal: str | None, as_json: bool) -> None:
    opened = _open(journal, must_exist=False)
    batches = [] if opened is None else opened.batches()
    if opened is not None:
        opened.close()
    if as_json:
        click.echo(json.dumps([batch.to_json() for batch in batches]))
        return
    table = Table("batch", "status", "target", "circuits", "jobs done", "updated", "server")
    for batch in batches:
        done = sum(job.has_results for job in batch.jobs)
        table.add_row(batch.id, batch.status, batch.target, str(batch.circuits), f"{done}/{len(batch.jobs)}",
                      _time(batch.updated), batch.base_url)
    _console().print(table)


def show(journal: str | None, batch_id: str, as_json: bool) -> None:
    with _open(journal) as opened:
        _print_batch(opened.batch(batch_id), as_json)


def resume(journal: str | None, batch_id: str, api_key_file: str | None, as_json: bool) -> None:
    """Run what the batch still needs (jobs in flight polled, lost POSTs looked up, the rest submitted)."""
    with _claimed(journal, batch_id) as (opened, info, record):
        backend = IonQOptions(api_key_file, info.base_url, info.target).backend(None, None)
        backend.run_units(record.units)
    with _open(journal) as opened:
        _print_batch(opened.batch(info.id), as_json)


def cancel(journal: str | None, batch_id: str, api_key_file: str | None, as_json: bool) -> None:
    """Cancel the batch's jobs in flight on the server; a job that completed meanwhile keeps its results."""
    with _claimed(journal, batch_id) as (opened, info, record):
        batch = BatchRun(record.units)
        if batch.in_flight():
            backend = IonQOptions(api_key_file, info.base_url, info.target).backend(None, None)
            run_sync(_settle(backend, batch))
        else:
            click.echo(f"batch {info.id} has no jobs in flight", err=True)
    with _open(journal) as opened:
        _print_batch(opened.batch(info.id), as_json)


async def _settle(backend, batch: BatchRun) -> None:
    async with backend.make_client() as client:
        await JobRunner(client, backend.poll).settle(batch, "qvec jobs cancel")


def prune(journal: str | None, older_than_s: float, as_json: bool) -> None:
    opened = _open(journal, must_exist=False)
    deleted, kept = ([], []) if opened is None else opened.prune(older_than_s)
    if opened is not None:
        opened.close()
    if as_json:
        click.echo(json.dumps({"deleted": deleted, "kept": kept}))
        return
    click.echo(f"deleted {len(deleted)} batch(es)")
    if kept:
        click.echo(f"kept {len(kept)} old batch(es) with jobs that may still run on the server (resume or cancel "
                   f"them first): {', '.join(kept)}")


def _print_batch(batch: BatchInfo, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(batch.to_json()))
        return
    console = _console()
    console.print(f"batch {batch.id}: {batch.status}, {batch.circuits} circuit(s) on {batch.target} at "
                  f"{batch.base_url}, shots {batch.shots or 'exact'}, created {_time(batch.created)}", soft_wrap=True)
    table = Table("job", "circuits", "status", "server job id", "idempotency key", "submitted", "results")
    for job in batch.jobs:
        table.add_row(str(job.unit), format_indices(job.circuits), job.status, job.job_id or "-", job.idempotency_key,
                      _time(job.submitted) if job.submitted else "-", "yes" if job.has_results else "no")
    console.print(table)


def _console() -> Console:
    console = Console()
    return console if console.is_terminal else Console(width=_PIPE_WIDTH)


def _time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M:%S")
