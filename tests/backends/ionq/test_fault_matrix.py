"""The fault-injection matrix: every fault the emulator (or the network) can inject, under every strategy.

Each row names a fault and the outcome qvec promises for it (docs/reliability.md, "Faults", holds
the same table):

- ``exact``: every circuit's result, exactly once and in input order; the emulator's admin
  counters show exactly one job per idempotency key and no more jobs than the batch has units;
- an error type: the batch stops (or finishes what it can) and raises that error, which names
  the circuits it could not run (and the jobs, where jobs exist) and keeps every result already
  paid for in ``.completed``; still never two jobs for one idempotency key.

| fault | injected by | outcome |
| --- | --- | --- |
| 429 with Retry-After | ``rate_limit_rate`` | exact |
| 500 | ``error_statuses=(500,)`` | ``RequestError`` (500 is not retried) |
| 502, 503, 504 | ``error_statuses`` | exact |
| connection reset before the request reached the server | a transport refusing connections | exact |
| connection dropped after the request arrived, before processing | ``drop_rate`` | exact |
| accepted but the answer was lost | ``lost_answer_rate`` | exact (the key is looked up) |
| answers slower than the request timeout | ``slow_rate``, ``slow_seconds`` | exact (the key is looked up) |
| a job that fails | ``fail_rate`` | ``JobFailedError`` |
| a job stuck past the deadline | ``stuck_rate``, ``Timeouts(stall=...)`` | ``JobStalledError`` |
| malformed (truncated) JSON | ``truncate_rate`` | exact (asked again; a POST is looked up first) |
| a missing entry in a result | ``missing_result_rate`` | ``IonQError`` |
| an empty result | ``empty_result_rate`` | ``IonQError`` |
| an unnormalized result | ``unnormalized_result_rate`` | ``IonQError`` |

Faults are seeded per endpoint, so which requests are hit does not depend on timing; every row
also checks that its fault was injected at least once. Nothing here asserts on time.
"""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import torch

from qvec.backends.ionq import Packed, PackingLimits, RateLimit, RetryPolicy, Timeouts
from qvec.emulator import Faults
from qvec.errors import IonQError, JobFailedError, JobStalledError, RequestError, format_indices

from .conftest import make_backend
from .test_backend import rotation_batch

ROWS = 6  # circuits per run: 15 faults x 4 strategies x 6 = 360 circuits
STRATEGIES = ["sequential", "threads:3", "concurrent", Packed(limits=PackingLimits(max_circuits=3))]
PATIENT = RetryPolicy(max_attempts=30, connection_attempts=30, unreached_attempts=30, backoff=0.01, max_delay=0.05)
# A request budget that 429s still halve, high enough that the matrix spends its time on faults.
BUDGET = RateLimit(per_second=500.0, burst=100, minimum=50.0)
RESULTS = ("GET /jobs/{id}/results/probabilities", "GET /jobs/{id}/results/probabilities/aggregated")
EXACT = "exact"


class RefusingTransport(httpx.AsyncBaseTransport):
    """Refuses a seeded share of requests before they reach the server (``httpx.ConnectError``, as a
    connection reset while connecting), passing the others to a real transport, one per event loop (the
    ``threads`` strategy runs one loop per worker)."""

    def __init__(self, rate: float, seed: int) -> None:
        self.rate, self.refused = rate, 0
        self._rng, self._lock = random.Random(seed), threading.Lock()
        self._inner: dict[int, httpx.AsyncHTTPTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            refuse = self._rng.random() < self.rate
            self.refused += refuse
        if refuse:
            raise httpx.ConnectError("connection reset by peer (injected by the test)", request=request)
        loop = id(asyncio.get_running_loop())
        with self._lock:
            inner = self._inner.setdefault(loop, httpx.AsyncHTTPTransport())
        return await inner.handle_async_request(request)

    async def aclose(self) -> None:
        with self._lock:
            inner = self._inner.pop(id(asyncio.get_running_loop()), None)
        if inner is not None:
            await inner.aclose()


@dataclass(frozen=True)
class Row:
    """One fault: how it is injected, the client options it needs, the promised outcome, and the counter
    (an entry of ``requests_per_status``) that proves it happened."""

    name: str
    faults: Faults = Faults()
    outcome: Any = EXACT
    injected: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    refused_rate: float = 0.0

    def __str__(self) -> str:
        return self.name


MATRIX = [
    Row("429 with Retry-After", Faults(seed=1, rate_limit_rate=0.3, retry_after=0.01), injected="429"),
    Row("500", Faults(seed=3, error_rate=0.3, error_statuses=(500,), endpoints=("POST /jobs",)), RequestError,
        injected="500"),
    Row("502", Faults(seed=3, error_rate=0.3, error_statuses=(502,)), injected="502"),
    Row("503", Faults(seed=4, error_rate=0.3, error_statuses=(503,)), injected="503"),
    Row("504", Faults(seed=5, error_rate=0.3, error_statuses=(504,)), injected="504"),
    Row("reset before the request reached the server", refused_rate=0.3),
    Row("dropped before processing", Faults(seed=6, drop_rate=0.3), injected="dropped"),
    Row("accepted, answer lost", Faults(seed=7, lost_answer_rate=0.5), injected="dropped"),
    Row("slower than the request timeout",
        Faults(seed=10, slow_rate=0.15, slow_seconds=2.0, endpoints=("POST /jobs", *RESULTS)),
        injected="slow", options={"timeouts": Timeouts(request=1.5)}),
    Row("job fails", Faults(seed=21, fail_rate=0.3), JobFailedError),
    Row("job stuck past the deadline", Faults(seed=9, stuck_rate=0.3), JobStalledError,
        options={"timeouts": Timeouts(request=5.0, stall=1.5)}),
    Row("truncated JSON", Faults(seed=11, truncate_rate=0.2), injected="truncated"),
    Row("missing entry in a result", Faults(seed=12, missing_result_rate=0.4), IonQError, injected="result missing"),
    Row("empty result", Faults(seed=12, empty_result_rate=0.4), IonQError, injected="result empty"),
    Row("unnormalized result", Faults(seed=12, unnormalized_result_rate=0.4), IonQError,
        injected="result unnormalized"),
]


def units_of(strategy: Any) -> int:
    return -(-ROWS // 3) if isinstance(strategy, Packed) else ROWS


def dense(raw: dict[str, float], width: int) -> torch.Tensor:
    vector = torch.zeros(width, dtype=torch.float64)
    for state, value in raw.items():
        vector[int(state)] = value
    return vector


@pytest.mark.parametrize("strategy", STRATEGIES, ids=str)
@pytest.mark.parametrize("row", MATRIX, ids=str)
def test_fault_matrix(start_emulator, row, strategy):
    emulator = start_emulator(faults=row.faults, latency=0.0, capacity=64)
    transport = RefusingTransport(row.refused_rate, seed=15) if row.refused_rate else None
    options = {"retry": PATIENT, "rate_limit": BUDGET, "seed": 5, **row.options}
    backend = make_backend(emulator, strategy=strategy, transport=transport, **options)
    circuit, params, expected = rotation_batch(rows=ROWS, qubits=2)
    if row.outcome == EXACT:
        torch.testing.assert_close(backend.probs(circuit, params, dtype=torch.complex128), expected, atol=1e-12,
                                   rtol=0)
    else:
        with pytest.raises(row.outcome) as caught:
            backend.probs(circuit, params, dtype=torch.complex128)
        check_error(caught.value, expected, list(emulator.store.jobs))
    counters = emulator.counters()
    assert counters["jobs_per_key"] and set(counters["jobs_per_key"].values()) == {1}  # no job created twice
    assert counters["jobs_created"] == len(counters["jobs_per_key"]) <= units_of(strategy)
    if row.outcome == EXACT:
        assert counters["jobs_created"] == units_of(strategy)
    assert injected(row, counters, transport) > 0


def check_error(error: IonQError, expected: torch.Tensor, server_jobs: list[str]) -> None:
    """The error accounts for every circuit once, names those it lost (and their jobs), and keeps correct
    results for the others."""
    completed, failed, unfinished = set(error.completed), set(error.failed), set(error.unfinished)
    assert completed | failed | unfinished == set(range(ROWS))
    assert not (completed & failed or completed & unfinished or failed & unfinished)
    assert failed, "the error names the circuits it could not run"
    message = str(error)
    assert f"failed: circuits {format_indices(failed)}" in message or format_indices(failed) in message
    job_ids = getattr(error, "job_ids", [])
    assert not job_ids or any(job_id in message for job_id in job_ids)  # the first few; all in .job_ids
    assert set(job_ids) <= set(server_jobs)
    for index, raw in error.completed.items():
        torch.testing.assert_close(dense(raw, expected.shape[1]), expected[index], atol=1e-12, rtol=0)


def injected(row: Row, counters: dict[str, Any], transport: RefusingTransport | None) -> int:
    """How often the row's fault was injected."""
    if transport is not None:
        return transport.refused
    if row.injected is not None:
        return counters["requests_per_status"].get(row.injected, 0)
    return 1  # job faults (failed, stuck): the raised error is the proof
