"""Cancellation: task cancellation, Ctrl-C and the batch timeout cancel the jobs in flight on the server.

Jobs are made to hang with the emulator's ``stuck_rate=1.0``; the admin counters list the jobs the
server canceled, and the warning names them.
"""

import _thread
import asyncio
import threading
import time

import pytest

import qvec
from qvec.backends.ionq import Packed, PackingLimits, Timeouts
from qvec.emulator import Faults
from qvec.errors import BatchInterrupted, JobStalledError, JobTimeoutError

from .conftest import make_backend

STUCK = Faults(stuck_rate=1.0)
STRATEGIES = ["concurrent", "threads:4", Packed(limits=PackingLimits(max_circuits=2))]


def circuits(count=4):
    return [qvec.Circuit(2).h(0).cx(0, 1) for _ in range(count)]


def wait_for_jobs(emulator, count):
    """Return once the emulator has created ``count`` jobs; no deadline: a loaded machine may take long, and
    a batch whose jobs never come hangs into the test's timeout, which fails it."""
    while emulator.counters()["jobs_created"] < count:
        time.sleep(0.02)


def press_ctrl_c_when_jobs_exist(emulator, count):
    """Press Ctrl-C (in the main thread) once the emulator has created ``count`` jobs, or at once if reading its
    counters fails: the batch never waits for a press that does not come, and the test's asserts say what went wrong."""

    def press():
        try:
            wait_for_jobs(emulator, count)
        finally:
            _thread.interrupt_main()

    threading.Thread(target=press, daemon=True).start()


def expected_jobs(strategy):
    return 2 if isinstance(strategy, Packed) else 4


def assert_all_canceled(emulator, caplog, strategy):
    counters = emulator.counters()
    assert counters["jobs_created"] == expected_jobs(strategy)
    assert len(counters["canceled_job_ids"]) == counters["jobs_created"]
    for job_id in counters["canceled_job_ids"]:
        assert job_id in caplog.text
    assert f"canceled {counters['jobs_created']} job(s) on the server" in caplog.text


@pytest.mark.parametrize("strategy", STRATEGIES, ids=str)
def test_cancelling_the_task_cancels_the_jobs_on_the_server(start_emulator, caplog, strategy):
    emulator = start_emulator(faults=STUCK)
    backend = make_backend(emulator, strategy=strategy)

    async def main():
        task = asyncio.create_task(backend.run_circuits_async(circuits()))
        await asyncio.to_thread(wait_for_jobs, emulator, expected_jobs(strategy))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert_all_canceled(emulator, caplog, strategy)


@pytest.mark.usefixtures("sigint_handled")
@pytest.mark.parametrize("strategy", ["packed", "threads:4"])
def test_ctrl_c_cancels_the_jobs_on_the_server(start_emulator, caplog, strategy):
    emulator = start_emulator(faults=STUCK)
    backend = make_backend(emulator, strategy=Packed(limits=PackingLimits(max_circuits=2)) if strategy == "packed"
                           else strategy)
    press_ctrl_c_when_jobs_exist(emulator, expected_jobs(backend.strategy))
    with pytest.raises(KeyboardInterrupt):
        backend.run_circuits(circuits())
    assert_all_canceled(emulator, caplog, backend.strategy)


@pytest.mark.parametrize("strategy", ["packed", "threads:4"])
def test_the_batch_timeout_names_and_cancels_unfinished_jobs(start_emulator, caplog, strategy):
    emulator = start_emulator(faults=STUCK)
    backend = make_backend(emulator, strategy=strategy, timeouts=Timeouts(batch=0.5))
    with pytest.raises(JobTimeoutError) as info:
        backend.run_circuits(circuits())
    counters = emulator.counters()
    assert sorted(info.value.job_ids) == sorted(counters["canceled_job_ids"])
    assert info.value.circuits == [0, 1, 2, 3] and "did not finish within 0.5 s" in str(info.value)


@pytest.mark.parametrize("strategy", ["packed", "threads:2"])
def test_a_job_stuck_past_the_stall_deadline_is_canceled_and_reported(start_emulator, caplog, strategy):
    emulator = start_emulator(faults=STUCK)
    backend = make_backend(emulator, strategy=strategy, timeouts=Timeouts(stall=0.3))
    with pytest.raises(JobStalledError, match="made no progress for 0.3 s") as info:
        backend.run_circuits(circuits(2))
    counters = emulator.counters()
    assert info.value.job_ids and set(info.value.job_ids) <= set(counters["canceled_job_ids"])
    assert len(counters["canceled_job_ids"]) == counters["jobs_created"] >= 1
    assert sorted(info.value.failed) == [0, 1] and not info.value.completed
    assert "made no progress" in caplog.text


@pytest.mark.usefixtures("sigint_handled")
def test_ctrl_c_raises_the_batch_interrupt_carrying_the_outcome(start_emulator):
    emulator = start_emulator(faults=STUCK)
    backend = make_backend(emulator, strategy="concurrent")
    press_ctrl_c_when_jobs_exist(emulator, 4)
    with pytest.raises(BatchInterrupted, match="interrupted") as info:
        backend.run_circuits(circuits())
    assert info.value.unfinished == [0, 1, 2, 3] and not info.value.completed
