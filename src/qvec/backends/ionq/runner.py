"""Running job units: submit, poll with backoff, fetch results; cancel what is in flight on the way out.

A unit is one job holding some of the batch's circuits (one for the per-circuit strategies, many
when packed). ``run_units`` runs units on one event loop with a bound on jobs in flight; when it
is interrupted (task cancellation, Ctrl-C, a failed job, the batch timeout), every job already
created is canceled on the server and a warning names them.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from qvec.errors import AuthenticationError, IonQError, JobFailedError, JobTimeoutError, RequestError, format_indices

from .client import IonQClient
from .results import split_results
from .settings import PollPolicy

__all__ = ["JobUnit", "JobRunner", "run_units", "describe_units"]

logger = logging.getLogger("qvec.backends.ionq")

Distribution = Mapping[str, float]
Advance = Callable[[int], None]
# Cleanup (canceling jobs on the server) may not hold an interrupted program for longer than this.
_CANCEL_TIMEOUT_S = 30.0


@dataclass
class JobUnit:
    """One job to run: the input indices of its circuits, its body and its idempotency key."""

    circuits: list[int]
    body: dict[str, Any]
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    job_id: str | None = None
    state: str = "pending"  # pending -> submitting -> running -> done
    first_submitted: float = 0.0

    def describe(self) -> str:
        return f"{self.job_id or 'unknown job'} (circuits {format_indices(self.circuits)})"


def describe_units(units: Sequence[JobUnit]) -> str:
    return ", ".join(u.describe() for u in units)


class JobRunner:
    """Runs units through one client: submission, polling and results, and server-side cancellation."""

    def __init__(self, client: IonQClient, poll: PollPolicy) -> None:
        self.client, self.poll = client, poll

    async def run_unit(self, unit: JobUnit) -> list[Distribution]:
        """Submit ``unit``, wait for it, and return one distribution per circuit, in its order."""
        unit.state, unit.first_submitted = "submitting", time.time()
        try:
            created = await self.client.create_job(unit.body, unit.key, unit.first_submitted)
        except (AuthenticationError, RequestError) as exc:
            if isinstance(exc, AuthenticationError) or exc.status_code < 500:
                unit.state = "done"  # refused outright: no job exists, so there is nothing to cancel
            raise
        unit.job_id, unit.state = str(created["id"]), "running"
        logger.info("submitted job %s", unit.describe())
        job = await self._wait(unit)
        raw = await self.client.probabilities(job)
        unit.state = "done"
        logger.info("completed job %s", unit.describe())
        return split_results(raw, len(unit.circuits), unit.job_id, job.get("child_job_ids"))

    async def _wait(self, unit: JobUnit) -> dict[str, Any]:
        for wait in self.poll.intervals():
            job = await self.client.get_job(unit.job_id)
            status = job.get("status")
            if status == "completed":
                return job
            if status == "failed":
                unit.state = "done"
                failure = job.get("failure") or {}
                code, message = str(failure.get("code", "unknown")), str(failure.get("error", "no message"))
                raise JobFailedError(f"job {unit.describe()} failed: {code}: {message}", job_ids=[unit.job_id],
                                     circuits=unit.circuits, code=code, server_message=message)
            if status in ("canceled", "deleted"):
                unit.state = "done"
                raise IonQError(f"job {unit.describe()} was {status} on the server")
            await asyncio.sleep(wait)
        raise AssertionError("unreachable: polling is endless")

    async def cancel_in_flight(self, units: Sequence[JobUnit]) -> list[JobUnit]:
        """Cancel on the server every unit submitted and not finished; return those canceled."""
        in_flight = [u for u in units if u.state in ("submitting", "running")]
        outcomes = await asyncio.gather(*(self._cancel(u) for u in in_flight), return_exceptions=True)
        canceled = [u for u, ok in zip(in_flight, outcomes) if ok is True]
        for unit, outcome in zip(in_flight, outcomes):
            if isinstance(outcome, BaseException):
                logger.warning("could not cancel job %s: %s", unit.describe(), outcome)
        return canceled

    async def _cancel(self, unit: JobUnit) -> bool:
        if unit.job_id is None:  # interrupted mid-POST: the job may exist all the same
            found = await self.client.find_job(unit.key, unit.first_submitted)
            if found is None:
                return False
            unit.job_id = str(found["id"])
        await self.client.cancel_job(unit.job_id)
        unit.state = "canceled"
        return True

    async def cancel_and_report(self, units: Sequence[JobUnit], why: str) -> list[JobUnit]:
        """Cancel in-flight units (within a time limit) and log which, saying ``why``."""
        try:
            canceled = await asyncio.wait_for(self.cancel_in_flight(units), _CANCEL_TIMEOUT_S)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            canceled = []
            logger.warning("%s: gave up canceling jobs on the server; check them: %s", why,
                           describe_units([u for u in units if u.state in ("submitting", "running")]))
        if canceled:
            logger.warning("%s: canceled %d job(s) on the server: %s", why, len(canceled), describe_units(canceled))
        return canceled


async def run_units(runner: JobRunner, units: Sequence[JobUnit], max_in_flight: int, advance: Advance,
                    batch_timeout: float | None = None) -> dict[int, Distribution]:
    """Run every unit with at most ``max_in_flight`` jobs at once; results keyed by input index."""
    results: dict[int, Distribution] = {}
    gate = asyncio.Semaphore(max_in_flight)

    async def run_one(unit: JobUnit) -> None:
        async with gate:
            distributions = await runner.run_unit(unit)
        results.update(zip(unit.circuits, distributions))
        advance(len(unit.circuits))

    tasks = [asyncio.ensure_future(run_one(unit)) for unit in units]
    try:
        async with asyncio.timeout(batch_timeout):
            await asyncio.gather(*tasks)
    except BaseException as exc:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        why = "batch timed out" if isinstance(exc, TimeoutError) else _reason(exc)
        canceled = await runner.cancel_and_report(units, why)
        if isinstance(exc, TimeoutError):
            unfinished = [u for u in units if u.state != "done"]
            raise JobTimeoutError(f"the batch did not finish within {batch_timeout} s; canceled: "
                                  f"{describe_units(canceled) or 'none'}",
                                  job_ids=[u.job_id for u in unfinished if u.job_id],
                                  circuits=sorted(i for u in unfinished for i in u.circuits)) from None
        raise
    return results


def _reason(exc: BaseException) -> str:
    if isinstance(exc, (asyncio.CancelledError, KeyboardInterrupt)):
        return "interrupted"
    return f"stopping after an error ({type(exc).__name__})"
