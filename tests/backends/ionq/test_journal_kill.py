"""Kill and resume: a program running a remote batch is killed (SIGKILL, SIGINT) while its jobs are in flight,
and running it again completes the batch without creating any job twice.

"In flight" is read from the journal itself (a job with a server id and no results yet, next to one already
completed), never guessed from a sleep. The emulator runs one job at a time, half a second each, so that the
program is caught with some jobs done and some not.
"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qvec.emulator import Emulator, EmulatorConfig

from .conftest import KEY, make_backend
from .journal_batch import CIRCUITS, batch_circuits

SCRIPT = Path(__file__).with_name("journal_batch.py")
# How long the test waits for the program to reach the state it interrupts: a bound on a hang, not a timing assert.
_WAIT_LIMIT_S = 300.0


@pytest.fixture
def slow_emulator():
    """One job at a time, each running half a second: a batch of four is in flight for about two seconds."""
    with Emulator(EmulatorConfig(api_keys=(KEY,), latency=0.5, capacity=1, admin=True)) as running:
        yield running


@pytest.fixture
def reference():
    """The batch's probabilities from an uninterrupted run without a journal."""
    with Emulator(EmulatorConfig(api_keys=(KEY,), admin=True)) as running:
        results = make_backend(running, strategy="concurrent", journal=None).run_circuits(batch_circuits())
        return [probabilities.tolist() for probabilities in results]


def start(base_url: str, out: Path) -> subprocess.Popen:
    env = {**os.environ, "IONQ_API_KEY": KEY}
    return subprocess.Popen([sys.executable, str(SCRIPT), base_url, str(out)], env=env, stderr=subprocess.PIPE,
                            text=True)


def job_rows(path: Path) -> list[tuple]:
    """(idempotency key, job id, status, has results) of every job in the journal, read-only; [] before it exists."""
    if not path.exists():
        return []
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return db.execute("SELECT idempotency_key, job_id, status, results IS NOT NULL FROM jobs "
                              "ORDER BY unit").fetchall()
    except sqlite3.Error:  # the program is still creating the file
        return []


def wait_until_in_flight(process: subprocess.Popen, journal: Path) -> None:
    """Return once the journal shows every job accepted by the server, one completed and one still running."""
    deadline = time.monotonic() + _WAIT_LIMIT_S
    while True:
        rows = job_rows(journal)
        accepted = len(rows) == CIRCUITS and all(job_id for _, job_id, _, _ in rows)
        if accepted and any(has for *_, has in rows) and any(status == "running" for _, _, status, _ in rows):
            return
        if process.poll() is not None:
            pytest.fail(f"the program ended (status {process.returncode}) before its jobs were in flight: "
                        f"{process.stderr.read()[-2000:]}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"no job in flight after {_WAIT_LIMIT_S} s; journal: {rows}")
        time.sleep(0.02)


def rerun(emulator: Emulator, out: Path) -> list:
    process = start(emulator.base_url, out)
    _, stderr = process.communicate()
    assert process.returncode == 0, stderr[-2000:]
    return json.loads(out.read_text())


def assert_each_key_created_once(emulator: Emulator, journal: Path) -> None:
    keys = emulator.counters()["jobs_per_key"]
    assert all(count == 1 for count in keys.values()), keys
    assert {key for key, *_ in job_rows(journal)} <= set(keys)


def test_a_batch_killed_with_sigkill_completes_on_a_rerun_without_creating_a_job_twice(slow_emulator, reference,
                                                                                       tmp_path):
    journal = Path(os.environ["QVEC_JOURNAL"])
    process = start(slow_emulator.base_url, tmp_path / "first.json")
    wait_until_in_flight(process, journal)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    at_kill = job_rows(journal)
    assert not (tmp_path / "first.json").exists()
    assert any(not has for *_, has in at_kill)  # something was left to resume
    done_then = {key: job_id for key, job_id, _, has in at_kill if has}

    assert rerun(slow_emulator, tmp_path / "second.json") == reference
    counters = slow_emulator.counters()
    assert counters["jobs_created"] == CIRCUITS  # every job was submitted once: by the killed program
    assert_each_key_created_once(slow_emulator, journal)
    after = job_rows(journal)
    assert all(status == "completed" and has for _, _, status, has in after)
    assert {key: job_id for key, job_id, *_ in after if key in done_then} == done_then


def test_a_batch_interrupted_with_ctrl_c_keeps_what_completed_and_a_rerun_resubmits_only_the_canceled(
        slow_emulator, reference, tmp_path, sigint_handled):
    journal = Path(os.environ["QVEC_JOURNAL"])
    process = start(slow_emulator.base_url, tmp_path / "first.json")
    wait_until_in_flight(process, journal)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate()
    assert process.returncode != 0 and "canceled" in stderr
    at_interrupt = job_rows(journal)
    completed = {key: job_id for key, job_id, status, has in at_interrupt if status == "completed" and has}
    canceled = [key for key, _, status, _ in at_interrupt if status == "canceled"]
    assert completed and canceled and len(completed) + len(canceled) == CIRCUITS
    assert sorted(slow_emulator.counters()["canceled_job_ids"]) == sorted(
        job_id for key, job_id, *_ in at_interrupt if key in canceled)

    assert rerun(slow_emulator, tmp_path / "second.json") == reference
    assert slow_emulator.counters()["jobs_created"] == CIRCUITS + len(canceled)
    assert_each_key_created_once(slow_emulator, journal)
    after = job_rows(journal)
    assert {key: job_id for key, job_id, *_ in after if key in completed} == completed  # reused, not rerun
    assert not set(canceled) & {key for key, *_ in after}  # the canceled jobs were replaced under new keys
