"""The job lifecycle: queue latency, a capacity of running jobs, execution, injected job faults."""

from __future__ import annotations

import asyncio
import random
import time

import torch

from .config import EmulatorConfig
from .execute import JobCanceled, SparseDistribution, distributions, estimated_probabilities
from .store import TERMINAL, Job, JobStore

__all__ = ["JobEngine"]


class JobEngine:
    """Runs each job as a task on the server's loop: submitted -> ready -> started -> completed.

    The simulation runs in a worker thread, so that the loop keeps answering other clients meanwhile;
    a job's memory reservation ends when that thread does (a canceled job stops at its next chunk).
    """

    def __init__(self, config: EmulatorConfig, store: JobStore) -> None:
        self.config, self.store = config, store
        self._slots = asyncio.Semaphore(config.capacity)
        self._rng = random.Random(config.faults.seed + 1)
        self._generator = torch.Generator().manual_seed(config.seed)

    def start(self, job: Job) -> None:
        job.task = asyncio.get_running_loop().create_task(self._run(job))

    async def _run(self, job: Job) -> None:
        try:
            await self._lifecycle(job)
        finally:
            if job.work is not None and not job.work.done():  # canceled while its thread runs: release when it ends
                job.work.add_done_callback(lambda _: self.store.release(job))
            else:
                self.store.release(job)

    async def _lifecycle(self, job: Job) -> None:
        faults = self.config.faults
        fails, stuck = self._rng.random() < faults.fail_rate, self._rng.random() < faults.stuck_rate
        await asyncio.sleep(self.config.queue_latency)
        job.set_status("ready")
        if stuck:
            job.set_status("started")
            await asyncio.Event().wait()  # until canceled
        async with self._slots:
            job.set_status("started")
            began = time.monotonic()
            await asyncio.sleep(self.config.latency + self.config.latency_per_circuit * len(job.request.circuits))
            if fails:
                return self._fail(job, "EmulatorInjectedFailure", "the emulator failed this job (fault injection)")
            job.work = asyncio.ensure_future(asyncio.to_thread(self._execute, job))
            try:
                results = await asyncio.shield(job.work)  # a cancel must not hide that the thread runs on
            except JobCanceled:
                return None
            except Exception as exc:  # reported as the job's failure, as the API does
                return self._fail(job, "SimulationError", f"{type(exc).__name__}: {exc}")
        self._complete(job, results, int(1000 * (time.monotonic() - began)))

    def _execute(self, job: Job) -> list[SparseDistribution]:
        """In a worker thread: the job's results, or ``JobCanceled`` at the first chunk after a cancel."""
        request = job.request

        def canceled() -> bool:  # read from this thread while the loop may set it: a status is swapped whole
            return job.status in TERMINAL

        if request.is_exact:
            return distributions(request.circuits, canceled=canceled)
        seed = (request.noise or {}).get("seed")
        generator = torch.Generator().manual_seed(seed) if isinstance(seed, int) else self._generator
        return distributions(request.circuits, lambda exact: estimated_probabilities(exact, request.shots, generator),
                             canceled)

    def _complete(self, job: Job, results: list[SparseDistribution], duration_ms: int) -> None:
        if job.status in ("canceled", "deleted"):
            return
        targets = job.children if job.is_parent else [job]
        for target, result in zip(targets, results, strict=True):
            target.distribution, target.duration_ms = result, duration_ms
        job.duration_ms = duration_ms
        job.set_status("completed")
        self.store.hold_results(job)

    @staticmethod
    def _fail(job: Job, code: str, message: str) -> None:
        for target in (job, *job.children):
            target.failure = {"code": code, "error": message}
        job.set_status("failed")
