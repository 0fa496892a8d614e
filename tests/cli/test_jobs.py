"""``qvec jobs``: list, show, resume, cancel and prune the job journal, as tables and as JSON."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import qvec
from qvec.backends import IonQBackend
from qvec.backends.ionq import journal as journal_module
from qvec.cli import main
from qvec.emulator import Emulator, EmulatorConfig, Faults

from backends.ionq.journal_batch import crashed_batch
from conftest import FAST_POLL, IONQ_TEST_KEY


def circuits(count=3):
    return [qvec.Circuit(2).h(0).ry(1, 0.3 * (i + 1)).cx(0, 1) for i in range(count)]


def backend_on(emulator) -> IonQBackend:
    return IonQBackend(api_key=IONQ_TEST_KEY, base_url=emulator.base_url, env_file=None, poll=FAST_POLL,
                       strategy="concurrent")


def jobs_json(capsys, *args: str):
    assert main(["jobs", *args, "--json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def with_key(monkeypatch):
    monkeypatch.setenv("IONQ_API_KEY", IONQ_TEST_KEY)


@pytest.fixture
def stuck_emulator():
    """Jobs start and never finish until canceled."""
    with Emulator(EmulatorConfig(api_keys=(IONQ_TEST_KEY,), faults=Faults(stuck_rate=1.0), admin=True)) as running:
        yield running


def test_list_and_show_a_batch_as_a_table_and_as_json(capsys, emulator):
    backend_on(emulator).run_circuits(circuits())
    (batch,) = jobs_json(capsys, "list")
    assert batch["status"] == "completed" and batch["circuits"] == 3 and batch["base_url"] == emulator.base_url
    keys = emulator.counters()["jobs_per_key"]
    assert [keys[job["idempotency_key"]] for job in batch["jobs"]] == [1, 1, 1]
    assert main(["jobs", "list"]) == 0
    table = capsys.readouterr().out
    assert batch["id"] in table and "3/3" in table and "completed" in table
    assert jobs_json(capsys, "show", batch["id"][:8]) == batch
    assert main(["jobs", "show", batch["id"]]) == 0
    shown = capsys.readouterr().out
    assert all(job["job_id"] in shown and job["idempotency_key"] in shown for job in batch["jobs"])


def test_list_of_a_journal_not_yet_written_is_empty_and_creates_nothing(capsys):
    assert jobs_json(capsys, "list") == []
    assert not Path(os.environ["QVEC_JOURNAL"]).exists()


def test_show_of_an_unknown_batch_exits_2_with_one_line(capsys, emulator):
    backend_on(emulator).run_circuits(circuits(1))
    capsys.readouterr()
    assert main(["jobs", "show", "feedface"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no batch 'feedface'" in err and os.environ["QVEC_JOURNAL"] in err


def test_resume_finishes_a_killed_programs_batch_and_its_rerun_sends_nothing(capsys, monkeypatch, with_key,
                                                                              start_emulator_for_cli):
    emulator = start_emulator_for_cli()
    backend = backend_on(emulator)
    units = crashed_batch(backend, circuits(), submitted=[0])
    (batch,) = jobs_json(capsys, "list")
    assert batch["status"] == "incomplete"
    resumed = jobs_json(capsys, "resume", batch["id"])
    assert resumed["status"] == "completed" and all(job["has_results"] for job in resumed["jobs"])
    counters = emulator.counters()
    assert counters["jobs_created"] == 3 and counters["jobs_per_key"][units[0].key] == 1
    served = sum(counters["requests_per_status"].values())
    monkeypatch.setattr(journal_module, "_delivered", {})  # the program, run again in a new process
    results = backend.run_circuits(circuits())
    assert sum(emulator.counters()["requests_per_status"].values()) == served
    for probabilities, circuit in zip(results, circuits()):
        assert probabilities.tolist() == pytest.approx(circuit.probs()[0].tolist(), abs=1e-6)


def test_cancel_cancels_the_jobs_in_flight_on_the_server_and_records_it(capsys, with_key, stuck_emulator):
    units = crashed_batch(backend_on(stuck_emulator), circuits(), submitted=[0, 1])
    (batch,) = jobs_json(capsys, "list")
    canceled = jobs_json(capsys, "cancel", batch["id"])
    assert [job["status"] for job in canceled["jobs"]] == ["canceled", "canceled", "pending"]
    assert sorted(stuck_emulator.counters()["canceled_job_ids"]) == sorted(u.job_id for u in units[:2])


def test_cancel_of_a_batch_with_nothing_in_flight_says_so(capsys, with_key, emulator):
    backend_on(emulator).run_circuits(circuits(1))
    (batch,) = jobs_json(capsys, "list")
    assert main(["jobs", "cancel", batch["id"]]) == 0
    assert "no jobs in flight" in capsys.readouterr().err


def test_prune_deletes_old_finished_batches_and_keeps_those_with_jobs_in_flight(capsys, stuck_emulator, emulator):
    backend_on(emulator).run_circuits(circuits(1))
    crashed_batch(backend_on(stuck_emulator), circuits(), submitted=[0])
    finished, in_flight = sorted(jobs_json(capsys, "list"), key=lambda b: b["status"])
    assert (finished["status"], in_flight["status"]) == ("completed", "incomplete")
    assert jobs_json(capsys, "prune", "--older-than", "7d") == {"deleted": [], "kept": []}
    assert jobs_json(capsys, "prune", "--older-than", "0s") == {"deleted": [finished["id"]], "kept": [in_flight["id"]]}
    assert [b["id"] for b in jobs_json(capsys, "list")] == [in_flight["id"]]


def test_prune_refuses_a_duration_it_cannot_read(capsys):
    assert main(["jobs", "prune", "--older-than", "7 days"]) == 2
    assert "not a duration" in capsys.readouterr().err


@pytest.fixture
def start_emulator_for_cli():
    started = []

    def start():
        started.append(Emulator(EmulatorConfig(api_keys=(IONQ_TEST_KEY,), admin=True)).start())
        return started[-1]

    yield start
    for running in started:
        running.stop()


BELL = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\nh q[0];\ncx q[0],q[1];\n'


def test_qvec_run_journals_its_ionq_batch_and_a_rerun_reuses_it(capsys, monkeypatch, with_key, emulator, tmp_path):
    (tmp_path / "bell.qasm").write_text(BELL)
    journal = tmp_path / "run.sqlite"
    args = ["run", str(tmp_path / "bell.qasm"), "--backend", "ionq", "--base-url", emulator.base_url,
            "--journal", str(journal), "--json"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    created = emulator.counters()["jobs_created"]
    monkeypatch.setattr(journal_module, "_delivered", {})  # run again as a new process
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out) == first
    assert emulator.counters()["jobs_created"] == created
    assert len(jobs_json(capsys, "list", "--journal", str(journal))) == 1


def test_qvec_run_no_journal_writes_none(capsys, with_key, emulator, tmp_path):
    (tmp_path / "bell.qasm").write_text(BELL)
    assert main(["run", str(tmp_path / "bell.qasm"), "--backend", "ionq", "--base-url", emulator.base_url,
                 "--no-journal", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["probabilities"] == pytest.approx([0.5, 0, 0, 0.5])
    assert not Path(os.environ["QVEC_JOURNAL"]).exists()


@pytest.mark.parametrize("flags", [["--no-journal"], ["--journal", "j.sqlite"]])
def test_qvec_run_journal_flags_apply_to_ionq_only(capsys, tmp_path, flags):
    (tmp_path / "bell.qasm").write_text(BELL)
    assert main(["run", str(tmp_path / "bell.qasm"), *flags]) == 2
    assert "apply to --backend ionq" in capsys.readouterr().err


def test_resume_refuses_a_batch_a_live_process_is_running(capsys, with_key, emulator):
    backend = backend_on(emulator)
    units = backend._prepare(circuits(), None, None, None)
    with journal_module.JobJournal(Path(os.environ["QVEC_JOURNAL"])) as journal:
        held = journal.claim(backend.settings.base_url, backend.settings.target, None, units,
                             journal_module.account_of(backend.settings.api_key))  # this live process
        assert main(["jobs", "resume", held.batch_id]) == 1
        assert "is being run by process" in capsys.readouterr().err
        held.release(delivered=False)
    assert not {unit.key for unit in units} & set(emulator.counters()["jobs_per_key"])  # nothing was sent
