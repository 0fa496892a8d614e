"""The job journal in one process: what a rerun reuses, polls, looks up or submits, and what it never shares.

"A new process" is simulated by forgetting which batches this process delivered (``journal._delivered``), which
is all a new process lacks; the kill tests (test_journal_kill.py) do it with real processes.
"""

import os
import socket
import sqlite3
import zlib
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import qvec
from qvec.backends.ionq import journal as journal_module
from qvec.backends.ionq.journal import JobJournal, account_of, content_id, process_alive, process_owner
from qvec.emulator import Emulator, EmulatorConfig
from qvec.backends.ionq import IonQBackend
from qvec.errors import AuthenticationError, JobError

from .conftest import FAST_POLL, KEY, make_backend
from .journal_batch import crashed_batch


def circuits(count=3):
    return [qvec.Circuit(2).h(0).ry(1, 0.2 * (i + 1)).cx(0, 1) for i in range(count)]


def dense_reference(count=3):
    """The circuits' probabilities from the local simulator."""
    return [c.probs(dtype=torch.complex128)[0].tolist() for c in circuits(count)]


def assert_reference(results, count=3):
    for probabilities, expected in zip(results, dense_reference(count), strict=True):
        assert probabilities.tolist() == pytest.approx(expected, abs=1e-12)


def journal_path() -> Path:
    return Path(os.environ["QVEC_JOURNAL"])


def requests_served(emulator) -> int:
    return sum(emulator.counters()["requests_per_status"].values())


@pytest.fixture
def new_process(monkeypatch):
    """Forget the batches this process delivered, as a fresh process of the same program would."""
    return lambda: monkeypatch.setattr(journal_module, "_delivered", {})


def test_a_delivered_batch_is_reused_by_a_new_process_without_any_request(emulator, new_process):
    backend = make_backend(emulator, strategy="concurrent")
    first = backend.run_circuits(circuits())
    served = requests_served(emulator)
    new_process()
    again = backend.run_circuits(circuits())
    assert requests_served(emulator) == served
    assert [r.tolist() for r in again] == [r.tolist() for r in first]
    assert_reference(again)


def test_a_new_process_gets_back_each_recorded_run_in_order_then_fresh_ones(start_emulator, new_process):
    emulator = start_emulator()
    backend = make_backend(emulator, strategy="sequential", shots=100, seed=None)
    backend.run_circuits(circuits(1))
    backend.run_circuits(circuits(1))
    assert emulator.counters()["jobs_created"] == 2  # a repeat in one process is a fresh run, as without a journal
    new_process()
    backend.run_circuits(circuits(1))
    backend.run_circuits(circuits(1))
    assert emulator.counters()["jobs_created"] == 2
    backend.run_circuits(circuits(1))
    assert emulator.counters()["jobs_created"] == 3
    with JobJournal(journal_path()) as journal:
        assert sorted(b.id.rsplit(".", 1)[1] for b in journal.batches()) == ["0", "1", "2"]


def test_a_job_in_flight_is_polled_not_resubmitted(start_emulator, new_process):
    emulator = start_emulator()
    backend = make_backend(emulator, strategy="concurrent")
    units = crashed_batch(backend, circuits(), submitted=[0, 2])
    assert emulator.counters()["jobs_created"] == 2
    new_process()
    results = backend.run_circuits(circuits())
    counters = emulator.counters()
    assert counters["jobs_created"] == 3
    assert counters["jobs_per_key"][units[0].key] == counters["jobs_per_key"][units[2].key] == 1
    assert_reference(results)


def test_a_post_whose_answer_was_lost_is_found_by_its_idempotency_key(start_emulator, new_process):
    emulator = start_emulator()
    backend = make_backend(emulator, strategy="concurrent")
    units = crashed_batch(backend, circuits(), posted_unanswered=[1])
    new_process()
    results = backend.run_circuits(circuits())
    counters = emulator.counters()
    assert counters["jobs_created"] == 3
    assert counters["jobs_per_key"][units[1].key] == 1
    assert_reference(results)


def test_a_failed_run_is_resumed_in_the_same_process(start_emulator):
    """An interrupted or failed batch was not delivered: running it again in the same process resumes it."""
    emulator = start_emulator()
    backend = make_backend(emulator, strategy="concurrent")
    crashed_batch(backend, circuits(), submitted=[0, 1, 2])
    backend.run_circuits(circuits())
    assert emulator.counters()["jobs_created"] == 3


def test_a_batch_a_live_process_runs_is_not_shared(start_emulator):
    emulator = start_emulator()
    backend = make_backend(emulator, strategy="concurrent")
    units = backend._prepare(circuits(), None, None, None)
    with JobJournal(journal_path()) as journal:
        held = journal.claim(backend.settings.base_url, backend.settings.target, None, units,
                             account_of(backend.settings.api_key))  # owned by us: alive
        backend.run_circuits(circuits())
        assert emulator.counters()["jobs_created"] == 3
        held.release(delivered=False)
        assert {b.id for b in journal.batches()} == {f"{content_id(backend.settings.base_url, units, account_of(backend.settings.api_key))[:16]}.{n}"
                                                     for n in (0, 1)}


def test_a_batch_of_a_dead_process_is_taken_over(start_emulator):
    emulator = start_emulator()
    backend = make_backend(emulator, strategy="concurrent")
    crashed_batch(backend, circuits(), submitted=[0, 1, 2])
    dead_owner = f"{socket.gethostname()}:{_dead_pid()}:-"
    assert not process_alive(dead_owner) and process_alive(process_owner())
    with sqlite3.connect(journal_path()) as db:
        db.execute("UPDATE batches SET owner = ?", (dead_owner,))
    backend.run_circuits(circuits())
    assert emulator.counters()["jobs_created"] == 3


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_two_servers_never_share_results(start_emulator, new_process):
    first, second = start_emulator(), start_emulator()
    make_backend(first, strategy="concurrent").run_circuits(circuits())
    new_process()
    make_backend(second, strategy="concurrent").run_circuits(circuits())
    assert second.counters()["jobs_created"] == 3


def test_another_key_never_gets_this_keys_results(emulator, new_process):
    """A batch journaled under one key is another batch under another: a wrong key meets the server's 401."""
    make_backend(emulator, strategy="concurrent").run_circuits(circuits())
    new_process()
    wrong = IonQBackend(api_key="not-" + KEY, base_url=emulator.base_url, env_file=None, poll=FAST_POLL,
                        strategy="concurrent")
    with pytest.raises(AuthenticationError):
        wrong.run_circuits(circuits())


def test_every_job_is_recorded_with_key_job_id_circuits_and_results(emulator):
    backend = make_backend(emulator, strategy="packed:2")
    backend.run_circuits(circuits(4))
    with JobJournal(journal_path()) as journal:
        (batch,) = journal.batches()
        assert batch.status == "completed" and batch.circuits == 4 and batch.base_url == emulator.base_url
        assert sorted(i for job in batch.jobs for i in job.circuits) == [0, 1, 2, 3]
        keys = emulator.counters()["jobs_per_key"]
        assert all(keys[job.idempotency_key] == 1 and job.job_id and job.has_results for job in batch.jobs)
        stored = journal.results(batch.id)
    for index, expected in enumerate(dense_reference(4)):
        assert sum(stored[index].values()) == pytest.approx(1.0)
        assert all(p == pytest.approx(expected[int(state)], abs=1e-12) for state, p in stored[index].items())


def test_the_journal_file_is_private_and_holds_no_secret(emulator):
    make_backend(emulator, strategy="concurrent", metadata={"experiment": "e1"}).run_circuits(circuits())
    path = journal_path()
    assert path.stat().st_mode & 0o777 == 0o600
    for file in path.parent.glob(path.name + "*"):
        assert KEY.encode() not in file.read_bytes()


def test_journal_none_and_qvec_journal_off_write_nothing(emulator, monkeypatch):
    path = journal_path()
    make_backend(emulator, journal=None).run_circuits(circuits(1))
    monkeypatch.setenv("QVEC_JOURNAL", "off")
    make_backend(emulator).run_circuits(circuits(1))
    assert emulator.counters()["jobs_created"] >= 2 and not path.exists()


def test_an_explicit_journal_path_is_used(emulator, tmp_path):
    make_backend(emulator, journal=tmp_path / "mine.sqlite").run_circuits(circuits(1))
    with JobJournal(tmp_path / "mine.sqlite") as journal:
        assert len(journal.batches()) == 1


def test_results_that_fail_validation_are_dropped_and_their_job_sent_again(start_emulator, new_process):
    emulator = start_emulator()
    backend = make_backend(emulator, strategy="concurrent")
    backend.run_circuits(circuits())
    with sqlite3.connect(journal_path()) as db:  # as if the server had answered a distribution that sums to 0.3
        db.execute("UPDATE jobs SET results = ? WHERE unit = 1", (zlib.compress(b'[{"0": 0.3}]'),))
    new_process()
    with pytest.raises(JobError, match="invalid results"):
        backend.run_circuits(circuits())
    assert_reference(backend.run_circuits(circuits()))
    assert emulator.counters()["jobs_created"] == 4
