"""The job lifecycle: queue latency, a capacity of running jobs, execution, injected job faults."""

from __future__ import annotations

import asyncio
import random
import time

import torch

from .config import EmulatorConfig
from .execute import distributions, estimated_probabilities
from .requests import JobRequest
from .store import Job

__all__ = ["JobEngine"]


def _is_exact(request: JobRequest) -> bool:
    """The ideal simulator returns exact probabilities; a QPU or a noise model estimates them from shots."""
    return request.target == "simulator" and (request.noise or {}).get("model", "ideal") == "ideal"


class JobEngine:
    """Runs each job as a task on the server's loop: submitted -> ready -> started -> completed."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self._slots = asyncio.Semaphore(config.capacity)
        self._rng = random.Random(config.faults.seed + 1)
        self._generator = torch.Generator().manual_seed(config.seed)

    def start(self, job: Job) -> None:
        job.task = asyncio.get_running_loop().create_task(self._run(job))

    async def _run(self, job: Job) -> None:
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
            try:
                results = await asyncio.to_thread(self._execute, job.request)
            except Exception as exc:  # reported as the job's failure, as the API does
                return self._fail(job, "SimulationError", f"{type(exc).__name__}: {exc}")
        self._complete(job, results, int(1000 * (time.monotonic() - began)))

    def _execute(self, request: JobRequest) -> list[dict[str, float]]:
        if _is_exact(request):
            return distributions(request.circuits)
        seed = (request.noise or {}).get("seed")
        generator = torch.Generator().manual_seed(seed) if isinstance(seed, int) else self._generator
        return distributions(request.circuits, lambda exact: estimated_probabilities(exact, request.shots, generator))

    @staticmethod
    def _complete(job: Job, results: list[dict[str, float]], duration_ms: int) -> None:
        if job.status in ("canceled", "deleted"):
            return
        targets = job.children if job.is_parent else [job]
        for target, result in zip(targets, results, strict=True):
            target.distribution, target.duration_ms = result, duration_ms
        job.duration_ms = duration_ms
        job.set_status("completed")

    @staticmethod
    def _fail(job: Job, code: str, message: str) -> None:
        for target in (job, *job.children):
            target.failure = {"code": code, "error": message}
        job.set_status("failed")
