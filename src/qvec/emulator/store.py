"""The emulator's jobs and counters, held in memory and touched only from the server's event loop."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any, Iterable

from .execute import SparseDistribution
from .requests import MULTI, JobRequest

__all__ = ["Job", "JobStore", "Counters", "TERMINAL", "API_PREFIX", "IDEMPOTENCY_FIELD"]

API_PREFIX = "/v0.4"
# The metadata field in which qvec's client sends its idempotency key (counted per key, to prove "no
# duplicates"); the same name as the client's, checked by a test, without importing the client.
IDEMPOTENCY_FIELD = "qvec_idempotency_key"
TERMINAL = frozenset({"completed", "canceled", "failed", "deleted"})


@dataclass
class Job:
    """One job (a multi-circuit parent, one of its children, or a plain circuit job)."""

    owner: str
    request: JobRequest
    sequence: int
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: str = "submitted"
    created: float = field(default_factory=time.time)
    parent: Job | None = None
    children: list[Job] = field(default_factory=list)
    distribution: SparseDistribution | None = None
    failure: dict[str, str] | None = None
    duration_ms: int | None = None
    task: asyncio.Task | None = None
    work: asyncio.Future | None = None  # the simulation in its worker thread
    reserved_bytes: int = 0
    finished_at: float | None = None
    evicted: bool = False

    @property
    def is_parent(self) -> bool:
        return self.request.type == MULTI and self.parent is None

    def set_status(self, status: str) -> None:
        """Set the status of the job and of its children that are not finished."""
        for job in (self, *self.children):
            if job.status not in TERMINAL or status == "deleted":
                job.status = status

    def results_url(self) -> str:
        suffix = "/aggregated" if self.is_parent else ""
        return f"{API_PREFIX}/jobs/{self.id}/results/probabilities{suffix}"

    def to_json(self) -> dict[str, Any]:
        """The job as ``GET /jobs/{id}`` answers it."""
        request = self.request
        body: dict[str, Any] = {
            "id": self.id, "type": request.type if self.parent is None else "ionq.circuit.v1", "status": self.status,
            "backend": request.target, "target": request.target, "name": request.name,
            "metadata": request.metadata if self.parent is None else {}, "shots": request.shots,
            "request": int(self.created), "stats": {"qubits": request.qubits, "circuits": len(request.circuits)},
            "parent_job_id": self.parent.id if self.parent else None,
        }
        if request.noise is not None:
            body["noise"] = request.noise
        if self.is_parent:
            body["child_job_ids"] = [child.id for child in self.children]
        if self.status == "completed":
            body["results"] = {"probabilities": {"url": self.results_url()}}
            body["execution_duration_ms"] = self.duration_ms
        if self.failure is not None:
            body["failure"] = self.failure
        return body


class Counters:
    """What tests use to prove "no duplicates": jobs per idempotency key, requests per status."""

    def __init__(self) -> None:
        self.jobs_per_key: Counter[str] = Counter()
        self.requests_per_status: Counter[str] = Counter()
        self.jobs_created = 0
        self.canceled: list[str] = []

    def to_json(self) -> dict[str, Any]:
        return {"jobs_created": self.jobs_created, "jobs_per_key": dict(self.jobs_per_key),
                "requests_per_status": dict(self.requests_per_status), "canceled_job_ids": list(self.canceled)}


class JobStore:
    """All jobs by id; listing is newest first and per owner.

    Memory is accounted here: each job in flight reserves its estimate (``reserved_bytes``) until its
    work ends; finished jobs hold their results' bytes until evicted, ``results_ttl`` seconds after they
    finish or when more than ``results_kept`` finished jobs hold results (None: no such limit).
    """

    def __init__(self, results_ttl: float | None = None, results_kept: int | None = None) -> None:
        self.jobs: dict[str, Job] = {}
        self.counters = Counters()
        self.results_ttl, self.results_kept = results_ttl, results_kept
        self.reserved_bytes = 0
        self.results_bytes = 0
        self._holding: OrderedDict[str, Job] = OrderedDict()  # finished top-level jobs with results, oldest first
        self._sequence = 0

    @property
    def bytes_in_use(self) -> int:
        """Reserved by jobs in flight plus held by stored results."""
        return self.reserved_bytes + self.results_bytes

    def add(self, owner: str, request: JobRequest, reserved_bytes: int = 0) -> Job:
        """Create a job (and its children for a multi-circuit request) reserving ``reserved_bytes`` while it works."""
        job = self._new(owner, request)
        job.reserved_bytes = reserved_bytes
        self.reserved_bytes += reserved_bytes
        if request.type == MULTI:
            job.children = [self._new(owner, request, parent=job) for _ in request.circuits]
        self.counters.jobs_created += 1
        key = request.metadata.get(IDEMPOTENCY_FIELD)
        if key is not None:
            self.counters.jobs_per_key[key] += 1
        return job

    def _new(self, owner: str, request: JobRequest, parent: Job | None = None) -> Job:
        self._sequence += 1
        job = Job(owner, request, self._sequence, parent=parent)
        self.jobs[job.id] = job
        return job

    def release(self, job: Job) -> None:
        """The job's work is over (done, failed or canceled): its reservation ends."""
        self.reserved_bytes -= job.reserved_bytes
        job.reserved_bytes = 0

    def hold_results(self, job: Job) -> None:
        """A top-level job finished with results: count their bytes and make them evictable."""
        job.finished_at = time.monotonic()
        self.results_bytes += _result_bytes(job)
        self._holding[job.id] = job
        self.evict()

    def evict(self) -> None:
        """Drop the results of finished jobs past ``results_ttl`` or beyond the ``results_kept`` newest."""
        now = time.monotonic()
        while self._holding:
            oldest = next(iter(self._holding.values()))
            expired = self.results_ttl is not None and now - oldest.finished_at >= self.results_ttl
            if not expired and (self.results_kept is None or len(self._holding) <= self.results_kept):
                return
            del self._holding[oldest.id]
            self.results_bytes -= _result_bytes(oldest)
            for target in (oldest, *oldest.children):
                target.distribution, target.evicted = None, True

    def get(self, owner: str, job_id: str) -> Job | None:
        job = self.jobs.get(job_id)
        return job if job is not None and job.owner == owner else None

    @property
    def last_sequence(self) -> int:
        """The sequence number of the newest job (0 before the first): list cursors never exceed it."""
        return self._sequence

    def listing(self, owner: str) -> Iterable[Job]:
        """The owner's jobs, newest first, without deleted ones."""
        jobs = (j for j in self.jobs.values() if j.owner == owner and j.status != "deleted")
        return sorted(jobs, key=lambda j: j.sequence, reverse=True)


def _result_bytes(job: Job) -> int:
    return sum(target.distribution.nbytes for target in (job, *job.children) if target.distribution is not None)
