"""Retries and idempotency under injected faults: every circuit answered, no job created twice.

"No duplicates" is proven with the emulator's admin counters: jobs created per idempotency key.
"""

import socket

import pytest
import torch

import qvec
from qvec.backends.ionq import IonQBackend, Packed, PackingLimits, RetryPolicy, Timeouts
from qvec.emulator import Faults
from qvec.errors import TransportError

from .conftest import make_backend
from .test_backend import rotation_batch

FAULTS = Faults(seed=11, error_rate=0.08, rate_limit_rate=0.08, drop_rate=0.05, slow_rate=0.05, slow_seconds=0.4,
                lost_answer_rate=0.25, retry_after=0.02)
PATIENT = RetryPolicy(max_attempts=30, backoff=0.01, max_delay=0.05)


@pytest.mark.parametrize("strategy", ["sequential", "threads:4", "concurrent",
                                      Packed(limits=PackingLimits(max_circuits=2))], ids=str)
def test_faults_are_retried_and_no_job_is_created_twice(start_emulator, strategy):
    emulator = start_emulator(faults=FAULTS)
    circuit, params, expected = rotation_batch(rows=10)
    backend = make_backend(emulator, strategy=strategy, retry=PATIENT, timeouts=Timeouts(request=0.25), seed=5)
    torch.testing.assert_close(backend.probs(circuit, params, dtype=torch.complex128), expected, atol=1e-12, rtol=0)
    counters = emulator.counters()
    assert counters["jobs_per_key"] and set(counters["jobs_per_key"].values()) == {1}
    assert counters["jobs_created"] == len(counters["jobs_per_key"]) == (5 if isinstance(strategy, Packed) else 10)
    statuses = counters["requests_per_status"]
    assert sum(n for s, n in statuses.items() if s not in ("200", "201")) > 0  # faults did happen


def test_a_lost_answer_is_recovered_by_looking_the_key_up(start_emulator, caplog):
    emulator = start_emulator(faults=Faults(lost_answer_rate=1.0))
    caplog.set_level("INFO", logger="qvec.backends.ionq")
    backend = make_backend(emulator, retry=RetryPolicy(backoff=0.01))
    circuit, params, expected = rotation_batch(rows=2)
    torch.testing.assert_close(backend.probs(circuit, params, dtype=torch.complex128), expected, atol=1e-12, rtol=0)
    counters = emulator.counters()
    assert counters["jobs_created"] == 1 and list(counters["jobs_per_key"].values()) == [1]
    assert counters["requests_per_status"]["dropped"] == 1
    assert "found job" in caplog.text and "not submitting it again" in caplog.text


def test_429_is_retried_after_the_servers_delay(start_emulator, caplog):
    # Seeded 429s, not a rate limit: the first draw of seed 1 (0.13) is a 429 whatever the machine's speed.
    emulator = start_emulator(faults=Faults(seed=1, rate_limit_rate=0.5, retry_after=0.01))
    caplog.set_level("INFO", logger="qvec.backends.ionq")
    circuit, params, expected = rotation_batch(rows=12)
    backend = make_backend(emulator, strategy="concurrent", retry=RetryPolicy(max_attempts=50, backoff=0.01))
    torch.testing.assert_close(backend.probs(circuit, params, dtype=torch.complex128), expected, atol=1e-12, rtol=0)
    counters = emulator.counters()
    assert counters["requests_per_status"]["429"] > 0 and "after HTTP 429" in caplog.text
    assert set(counters["jobs_per_key"].values()) == {1} and counters["jobs_created"] == 12


@pytest.mark.parametrize("strategy", ["threads:10", "concurrent", Packed(limits=PackingLimits(max_circuits=10))],
                         ids=str)
def test_a_batch_against_a_rate_limited_server_finishes(start_emulator, strategy):
    emulator = start_emulator(rate_limit=5.0, latency=0.02)
    circuit, params, expected = rotation_batch(rows=15)
    # Five attempts per request suffice when the batch's requests slow down together; retrying each
    # after exactly the server's delay, in lockstep, runs out of them.
    backend = make_backend(emulator, strategy=strategy, retry=RetryPolicy(max_attempts=5))
    torch.testing.assert_close(backend.probs(circuit, params, dtype=torch.complex128), expected, atol=1e-12, rtol=0)
    counters = emulator.counters()
    assert set(counters["jobs_per_key"].values()) == {1}


def test_threads_ride_out_dropped_connections(start_emulator):
    emulator = start_emulator(faults=Faults(seed=4, drop_rate=0.3))
    circuit, params, expected = rotation_batch(rows=10)
    # Two attempts for answers with a retryable status; answerless requests have their own budget.
    backend = make_backend(emulator, strategy="threads:4", retry=RetryPolicy(max_attempts=2, backoff=0.01,
                                                                             max_delay=0.05))
    torch.testing.assert_close(backend.probs(circuit, params, dtype=torch.complex128), expected, atol=1e-12, rtol=0)
    counters = emulator.counters()
    assert counters["requests_per_status"]["dropped"] > 0 and set(counters["jobs_per_key"].values()) == {1}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_refused_connection_fails_fast_naming_the_host_without_cancel_warnings(caplog):
    port = free_port()
    backend = IonQBackend(api_key="k", base_url=f"http://127.0.0.1:{port}/v0.4", env_file=None, strategy="concurrent",
                          retry=RetryPolicy(backoff=0.01))
    with pytest.raises(TransportError, match=f"could not reach 127.0.0.1 \\(http://127.0.0.1:{port}/v0.4\\)") as info:
        backend.run_circuits([qvec.Circuit(1).h(0) for _ in range(3)])
    assert "POST /v0.4/jobs got no answer" in str(info.value) and info.value.failed == [0, 1, 2]
    assert "cancel" not in caplog.text


def test_a_server_that_never_answers_is_reported_as_the_submission():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections are accepted by the kernel, and never answered
        port = silent.getsockname()[1]
        backend = IonQBackend(api_key="k", base_url=f"http://127.0.0.1:{port}/v0.4", env_file=None,
                              timeouts=Timeouts(request=0.2), retry=RetryPolicy(max_attempts=2, backoff=0.01))
        with pytest.raises(TransportError) as info:
            backend.run_circuits([qvec.Circuit(1).h(0)])
    assert str(info.value).startswith("POST /v0.4/jobs") and "127.0.0.1" in str(info.value)
