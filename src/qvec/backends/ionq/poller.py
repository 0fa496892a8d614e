"""Waiting for jobs: one ``GET /jobs?ids=...`` polls every job a runner waits for.

The poller backs off while nothing changes and comes back to the first interval when a job is
added or changes status. A job whose status stays the same for the stall deadline is reported
stuck (``JobStalledError``), so that nothing hangs forever when no batch timeout is set.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from qvec.errors import IonQError, JobFailedError, JobStalledError

from .client import IonQClient
from .settings import PollPolicy

if TYPE_CHECKING:
    from .runner import JobUnit

__all__ = ["JobPoller"]

Job = dict[str, Any]


class JobPoller:
    """Polls the jobs of waiting units together; ``wait(unit)`` returns the unit's completed job record."""

    def __init__(self, client: IonQClient, policy: PollPolicy, stall: float | None) -> None:
        self.client, self.policy, self.stall = client, policy, stall
        self._waiting: dict[str, tuple[JobUnit, asyncio.Future[Job]]] = {}
        self._seen: dict[str, tuple[str | None, float]] = {}  # job id -> (status, since when)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"JobPoller(waiting={len(self._waiting)}, policy={self.policy!r}, stall={self.stall!r})"

    async def wait(self, unit: JobUnit) -> Job:
        """The job record of ``unit`` once completed; ``JobFailedError``, ``JobStalledError`` or ``IonQError`` else."""
        assert unit.job_id is not None, "a unit is polled once its job exists"
        future: asyncio.Future[Job] = asyncio.get_running_loop().create_future()
        self._waiting[unit.job_id] = (unit, future)
        self._seen[unit.job_id] = (None, time.monotonic())
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        try:
            return await future
        finally:
            self._waiting.pop(unit.job_id, None)
            self._seen.pop(unit.job_id, None)
            if not self._waiting and self._task is not None:
                self._task.cancel()  # nobody waits: end the loop now, not after its next sleep;
                self._task = None  # the next ``wait`` starts a fresh one

    async def _run(self) -> None:
        """Poll while anyone waits; the loop ends (and a later ``wait`` starts another) when none does."""
        intervals = self.policy.intervals()
        deadline = time.monotonic() + next(intervals)
        while self._waiting:
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                pass
            if self._wake.is_set():  # a job was added: poll it soon
                intervals = self.policy.intervals()
                deadline = min(deadline, time.monotonic() + next(intervals))
                continue
            if await self._poll():
                intervals = self.policy.intervals()
            deadline = time.monotonic() + next(intervals)

    async def _poll(self) -> bool:
        """One round over every waiting job; whether any job changed status."""
        waiting = dict(self._waiting)
        try:
            jobs = await self.client.get_jobs(waiting)
        except Exception as exc:  # the request failed: so did the wait of every job it covered
            for _, future in waiting.values():
                if not future.done():
                    future.set_exception(exc)
            return True
        changed = False
        for job_id, (unit, future) in waiting.items():
            if not future.done():
                changed |= self._update(unit, future, jobs[job_id])
        return changed

    def _update(self, unit: JobUnit, future: asyncio.Future[Job], job: Job) -> bool:
        """Resolve ``future`` if the job finished or stalled; whether its status changed."""
        status, now = job.get("status"), time.monotonic()
        previous, since = self._seen.get(unit.job_id, (None, now))
        if status == "completed":
            future.set_result(job)
        elif status == "failed":
            unit.state = "failed"
            failure = job.get("failure") or {}
            code, message = str(failure.get("code", "unknown")), str(failure.get("error", "no message"))
            future.set_exception(JobFailedError(f"job {unit.describe()} failed: {code}: {message}",
                                                job_ids=[unit.job_id], circuits=unit.circuits, code=code,
                                                server_message=message))
        elif status in ("canceled", "deleted"):
            unit.state = "failed"
            future.set_exception(IonQError(f"job {unit.describe()} was {status} on the server"))
        elif status == previous and self.stall is not None and now - since > self.stall:
            future.set_exception(JobStalledError(
                f"job {unit.describe()} made no progress for {self.stall:g} s (still {status}); it is canceled "
                "on the server (Timeouts.stall sets this deadline)", job_ids=[unit.job_id], circuits=unit.circuits))
        if status != previous:
            self._seen[unit.job_id] = (status, now)
        return status != previous
