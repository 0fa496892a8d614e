"""Running job units: submit, wait (one poller per runner), fetch results; settle what is in flight.

A unit is one job holding some of the batch's circuits (one for the per-circuit strategies, many
when packed). A ``BatchRun`` records what became of each unit. A unit whose conversation with the
server broke down (a request out of retries, a job stuck past the stall deadline) fails only its
circuits; an error the server states (a failed job, a refused request) stops the batch, as do the
batch timeout and an interruption. Stopping settles the batch: the jobs in flight are canceled on
the server in one request, a job that had completed meanwhile keeps its results, and a warning
tells canceled and completed jobs apart. The error raised carries every completed result.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol, Sequence

from qvec.errors import (AuthenticationError, BatchInterrupted, BatchOutcome, IonQError, JobStalledError,
                         JobTimeoutError, RequestError, TransportError, format_indices)

from .client import RETRYABLE_STATUS, IonQClient
from .poller import JobPoller
from .results import split_results
from .settings import PollPolicy

__all__ = ["JobUnit", "JobRunner", "BatchRun", "UnitRecorder", "run_units", "describe_units"]

logger = logging.getLogger("qvec.backends.ionq")

Distribution = Mapping[str, float]
Advance = Callable[[int], None]
# Settling (canceling jobs on the server) may not hold an interrupted program for longer than this.
_CANCEL_TIMEOUT_S = 30.0
IN_FLIGHT = ("submitting", "running")
TIMED_OUT = "batch timed out"
INTERRUPTED = "interrupted"


class UnitRecorder(Protocol):
    """Where a unit's progress is written as it happens (the job journal), so that a rerun can resume it."""

    def record(self, unit: JobUnit, results: Sequence[Distribution] | None = None) -> None: ...


class _NoRecorder:
    def record(self, unit: JobUnit, results: Sequence[Distribution] | None = None) -> None:
        """Nothing to record: the batch runs without a journal."""

    def __repr__(self) -> str:
        return "NO_RECORDER"


NO_RECORDER = _NoRecorder()


@dataclass
class JobUnit:
    """One job to run: the input indices of its circuits, its body and its idempotency key.

    A unit taken over from an earlier run (the journal) may already have a job to poll (``job_id``),
    a key to look up (``state`` "submitting"), or its results (``restored``).
    """

    circuits: list[int]
    body: dict[str, Any]
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    job_id: str | None = None
    # pending -> submitting -> running -> completed; or failed, canceled, or not created
    state: str = "pending"
    first_submitted: float = 0.0
    restored: list[Distribution] | None = field(default=None, repr=False)
    recorder: UnitRecorder = field(default=NO_RECORDER, repr=False, compare=False)

    def describe(self) -> str:
        return f"{self.job_id or 'job not created yet'} (circuits {format_indices(self.circuits)})"


def describe_units(units: Sequence[JobUnit]) -> str:
    return ", ".join(u.describe() for u in units)


def _stops_batch(error: IonQError) -> bool:
    """Whether an error of one unit stops the batch: yes, unless it is that unit's alone (a request
    out of retries, a stuck job)."""
    if isinstance(error, RequestError):
        return error.status_code not in RETRYABLE_STATUS
    return not isinstance(error, (TransportError, JobStalledError))


class BatchRun:
    """The units of one batch and what became of them, shared by the tasks or threads that run them,
    so that a batch that stops early still hands back every completed result."""

    def __init__(self, units: Sequence[JobUnit]) -> None:
        self.units = list(units)
        self.results: dict[int, Distribution] = {}
        self.failures: list[tuple[JobUnit, IonQError]] = []
        self.stop_reason: str | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (f"BatchRun(units={len(self.units)}, completed={len(self.results)}, failed={len(self.failures)}, "
                f"stop_reason={self.stop_reason!r})")

    @property
    def stopping(self) -> bool:
        return self.stop_reason is not None

    def in_flight(self) -> list[JobUnit]:
        """Units whose job exists, or may exist, and has not finished."""
        return [u for u in self.units if u.state in IN_FLIGHT]

    def complete(self, unit: JobUnit, distributions: Sequence[Distribution]) -> None:
        """Keep ``unit``'s results, recording them first unless they came from the journal."""
        with self._lock:
            unit.state = "completed"
        if unit.restored is None:
            unit.recorder.record(unit, distributions)
        with self._lock:
            self.results.update(zip(unit.circuits, distributions))

    def fail(self, unit: JobUnit, error: IonQError) -> bool:
        """Record ``unit``'s failure; whether the batch goes on."""
        with self._lock:
            self.failures.append((unit, error))
        return not (_stops_batch(error) and self.stop(f"stopping after an error ({type(error).__name__})"))

    def stop(self, reason: str) -> bool:
        """Ask every unit to stop; true for the first caller only."""
        with self._lock:
            if self.stop_reason is not None:
                return False
            self.stop_reason = reason
            return True

    def finish(self, batch_timeout: float | None) -> dict[int, Distribution]:
        """Every result by input index; or the error that stopped the batch, carrying what completed."""
        if self.stop_reason == TIMED_OUT:
            unfinished = [u for u in self.units if u.state != "completed"]
            raise self.outcome(JobTimeoutError(
                f"the batch did not finish within {batch_timeout} s; its jobs in flight were canceled",
                job_ids=[u.job_id for u in unfinished if u.job_id],
                circuits=sorted(i for u in unfinished for i in u.circuits)))
        failures = self._open_failures()
        if failures:
            stopping = [error for _, error in failures if _stops_batch(error)]
            raise self.outcome((stopping or [failures[0][1]])[0])
        missing = [i for u in self.units for i in u.circuits if i not in self.results]
        if missing:
            raise self.outcome(IonQError(f"no results for circuit(s) {format_indices(missing)}"))
        return dict(self.results)

    def interrupted(self, kind: type[BatchInterrupted], why: str) -> BatchInterrupted:
        """The interrupt to raise after settling: ``why``, and what completed before it."""
        return self.outcome(kind(f"{why}: the batch's jobs in flight were canceled on the server"))

    def outcome(self, error: BatchOutcome) -> Any:
        """``error`` with the batch's completed results and its failed and unfinished circuits attached."""
        failed = {i for unit, _ in self._open_failures() for i in unit.circuits}
        every = {i for unit in self.units for i in unit.circuits}
        error.record_batch(self.results, failed, every - failed - set(self.results))
        return error

    def _open_failures(self) -> list[tuple[JobUnit, IonQError]]:
        """Failures whose circuits still lack results (settling can recover a job that failed to answer)."""
        return [(unit, error) for unit, error in self.failures if any(i not in self.results for i in unit.circuits)]


class JobRunner:
    """Runs units through one client: submission, waiting, results, and settling a stopped batch."""

    def __init__(self, client: IonQClient, poll: PollPolicy, stall: float | None = None) -> None:
        self.client = client
        self.poller = JobPoller(client, poll, stall)

    def __repr__(self) -> str:
        return f"JobRunner({self.client!r}, {self.poller!r})"

    async def run_unit(self, unit: JobUnit) -> list[Distribution]:
        """Submit ``unit`` (unless an earlier run did), wait for it, and return one distribution per circuit."""
        if unit.job_id is None:
            await self._create(unit)
        else:
            logger.info("polling job %s, submitted by an earlier run", unit.describe())
        try:
            job = await self.poller.wait(unit)
        except JobStalledError as stalled:
            job = await self._cancel_stalled(unit, stalled)
        distributions = _split(job, await self.client.probabilities(job), unit)
        logger.info("completed job %s", unit.describe())
        return distributions

    async def run_into(self, batch: BatchRun, unit: JobUnit, advance: Advance) -> None:
        """Run ``unit`` (or take its results from an earlier run) and record its results or its failure."""
        if unit.restored is not None:
            batch.complete(unit, unit.restored)
            advance(len(unit.circuits))
            return
        try:
            distributions = await self.run_unit(unit)
        except IonQError as exc:
            unit.recorder.record(unit)
            batch.fail(unit, exc)
            return
        batch.complete(unit, distributions)
        advance(len(unit.circuits))

    async def _create(self, unit: JobUnit) -> None:
        """Create ``unit``'s job; one an earlier run sent without hearing back is first looked up by its key."""
        created = None
        if unit.state == "submitting":
            created = await self.client.find_job(unit.key, unit.first_submitted)
        if created is None:
            created = await self._submit(unit)
        if not isinstance(created, dict) or not created.get("id"):
            raise IonQError(f"POST /jobs answered without a job id for circuits {format_indices(unit.circuits)}: "
                            f"{str(created)[:200]}")
        unit.job_id, unit.state = str(created["id"]), "running"
        unit.recorder.record(unit)
        logger.info("submitted job %s", unit.describe())

    async def _submit(self, unit: JobUnit) -> Any:
        """POST the job; its key is in the journal before the request leaves."""
        unit.state, unit.first_submitted = "submitting", unit.first_submitted or time.time()
        unit.recorder.record(unit)
        try:
            return await self.client.create_job(unit.body, unit.key, unit.first_submitted)
        except TransportError as exc:
            if not exc.maybe_sent:
                unit.state = "not created"  # it never reached the server: no job to cancel
            raise
        except (AuthenticationError, RequestError) as exc:
            if isinstance(exc, AuthenticationError) or exc.status_code < 500:
                unit.state = "not created"  # refused outright
            raise

    async def _cancel_stalled(self, unit: JobUnit, stalled: JobStalledError) -> dict[str, Any]:
        """Cancel a stuck job; if it completed in the meantime, its record (results are paid for)."""
        status = (await self.client.cancel_jobs([unit.job_id])).get(unit.job_id)
        if status == "completed":
            return await self.client.get_job(unit.job_id)
        unit.state = "canceled" if status == "canceled" else unit.state
        logger.warning("%s", stalled)
        raise stalled

    async def settle(self, batch: BatchRun, reason: str) -> None:
        """Cancel the batch's jobs in flight (within a time limit), keep results of any that completed,
        and log which jobs were canceled, which had completed, and which could not be canceled."""
        units = batch.in_flight()
        if not units:
            return
        try:
            await asyncio.wait_for(self._settle(batch, units, reason), _CANCEL_TIMEOUT_S)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            logger.warning("%s: gave up canceling jobs on the server; check them: %s", reason,
                           describe_units(batch.in_flight()))
        finally:
            for unit in units:
                if unit.state != "completed":  # completed units recorded their results already
                    unit.recorder.record(unit)

    async def _settle(self, batch: BatchRun, units: list[JobUnit], reason: str) -> None:
        unknown = [u for u in units if not await self._resolve(u)]
        known = [u for u in units if u.job_id is not None and u.state in IN_FLIGHT]
        statuses = await self.client.cancel_jobs([u.job_id for u in known]) if known else {}
        for unit in known:
            status = statuses.get(unit.job_id)
            if status == "completed":
                await self._keep_results(batch, unit)
            elif status is not None:
                unit.state = status if status in ("canceled", "failed") else "canceled"
        _report(reason, units, unknown)

    async def _resolve(self, unit: JobUnit) -> bool:
        """Whether it is known if ``unit``'s job exists: a unit interrupted mid-POST is looked up by its key
        (and marked as never created when it is not found)."""
        if unit.job_id is not None:
            return True
        try:
            found = await self.client.find_job(unit.key, unit.first_submitted)
        except IonQError as exc:
            logger.warning("could not tell whether job %s was created: %s", unit.describe(), exc)
            return False
        if found is None:
            unit.state = "not created"
        else:
            unit.job_id = str(found["id"])
        return True

    async def _keep_results(self, batch: BatchRun, unit: JobUnit) -> None:
        try:
            job = await self.client.get_job(unit.job_id)
            batch.complete(unit, _split(job, await self.client.probabilities(job), unit))
        except IonQError as exc:
            unit.state = "completed on the server"
            logger.warning("job %s completed, but its results could not be fetched: %s", unit.describe(), exc)


def _split(job: Mapping[str, Any], raw: Mapping[str, Any], unit: JobUnit) -> list[Distribution]:
    """Per-circuit results of ``unit``'s job, the aggregated keys checked against its child job ids."""
    return split_results(raw, len(unit.circuits), str(unit.job_id), job.get("child_job_ids"))


def _report(reason: str, units: Sequence[JobUnit], unknown: Sequence[JobUnit]) -> None:
    """One warning per outcome: canceled, completed after all (results kept), could not be canceled."""
    canceled = [u for u in units if u.state == "canceled"]
    completed = [u for u in units if u.state == "completed"]
    stuck = [u for u in units if u.state in IN_FLIGHT and u not in unknown]
    if canceled:
        logger.warning("%s: canceled %d job(s) on the server: %s", reason, len(canceled), describe_units(canceled))
    if completed:
        logger.warning("%s: %d job(s) had already completed on the server; their results are kept: %s", reason,
                       len(completed), describe_units(completed))
    if stuck or unknown:
        logger.warning("%s: could not cancel %d job(s); check them on the server: %s", reason,
                       len(stuck) + len(unknown), describe_units([*stuck, *unknown]))


async def run_units(runner: JobRunner, batch: BatchRun, max_in_flight: int, advance: Advance,
                    batch_timeout: float | None = None) -> dict[int, Distribution]:
    """Run the batch's units with at most ``max_in_flight`` jobs at once; results keyed by input index."""
    gate = asyncio.Semaphore(max_in_flight)
    stopped = asyncio.Event()

    async def run_one(unit: JobUnit) -> None:
        async with gate:
            if not batch.stopping:
                await runner.run_into(batch, unit, advance)
            if batch.stopping:
                stopped.set()

    tasks = [asyncio.ensure_future(run_one(unit)) for unit in batch.units]
    everything, stop_watch = asyncio.gather(*tasks), asyncio.ensure_future(stopped.wait())
    try:
        async with asyncio.timeout(batch_timeout):
            await asyncio.wait([everything, stop_watch], return_when=asyncio.FIRST_COMPLETED)
    except BaseException as exc:
        batch.stop(TIMED_OUT if isinstance(exc, TimeoutError) else INTERRUPTED)
        await _stop([everything, stop_watch], runner, batch)
        if not isinstance(exc, TimeoutError):
            raise
    else:
        defect = everything.exception() if everything.done() else None  # not an IonQError: those are recorded
        await _stop([everything, stop_watch], runner, batch)
        if defect is not None:
            raise defect
    return batch.finish(batch_timeout)


async def _stop(running: list[asyncio.Future[Any]], runner: JobRunner, batch: BatchRun) -> None:
    """Cancel the unit tasks still running and settle the batch in a fresh task: the current one may
    have been canceled, and httpx's anyio layer would cancel the cancel request too."""
    for future in running:
        future.cancel()
    await asyncio.gather(*running, return_exceptions=True)
    reason = batch.stop_reason or "after requests that got no answer"
    await asyncio.shield(asyncio.ensure_future(runner.settle(batch, reason)))
