"""The journal file: where it lives, several processes writing it at once, and the files it refuses.

A damaged, truncated, foreign or newer file is refused with an error naming the file and the way out,
and is left byte for byte as it was.
"""

import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import platformdirs
import pytest

import qvec
from qvec.backends.ionq import journal_file
from qvec.backends.ionq.journal import JobJournal
from qvec.backends.ionq.journal_file import DEFAULT_JOURNAL, JournalError, journal_path
from qvec.backends.ionq.runner import JobUnit
from qvec.errors import InputError

from .conftest import make_backend


def units(tag: str, count: int = 3) -> list[JobUnit]:
    return [JobUnit([i], {"input": {"circuit": [], "qubits": 1}, "tag": tag, "i": i}) for i in range(count)]


def a_journal_with_batches(path: Path, batches: int = 30) -> None:
    with JobJournal(path) as journal:
        for b in range(batches):
            batch = units(f"batch {b}")
            record = journal.claim("http://127.0.0.1:1/v0.4", "simulator", None, batch)
            for unit in batch:
                unit.state = "completed"
                record.record(unit, [{"0": 1.0}])
            record.release(delivered=True)


def assert_refused(path: Path, *phrases: str) -> None:
    before = path.read_bytes()
    with pytest.raises(JournalError) as error:
        JobJournal(path)
    message = str(error.value)
    assert str(path) in message and "move the file aside" in message
    for phrase in phrases:
        assert phrase in message
    assert path.read_bytes() == before  # never repaired, replaced or deleted


def test_the_default_path_is_in_the_user_data_directory_and_qvec_journal_moves_it(monkeypatch, tmp_path):
    monkeypatch.delenv("QVEC_JOURNAL")
    assert journal_path(DEFAULT_JOURNAL) == Path(platformdirs.user_data_dir("qvec")) / "journal.sqlite"
    monkeypatch.setenv("QVEC_JOURNAL", str(tmp_path / "j.sqlite"))
    assert journal_path(DEFAULT_JOURNAL) == tmp_path / "j.sqlite"
    monkeypatch.setenv("QVEC_JOURNAL", "OFF")
    assert journal_path(DEFAULT_JOURNAL) is None
    assert journal_path(None) is None and journal_path(tmp_path / "x") == tmp_path / "x"


def test_a_bad_journal_argument_is_refused_when_the_backend_is_made(emulator):
    with pytest.raises(InputError, match="journal must be a file path"):
        make_backend(emulator, journal=3)


def test_a_truncated_journal_is_refused_and_left_as_it_was(tmp_path):
    path = tmp_path / "journal.sqlite"
    a_journal_with_batches(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert_refused(path, "damaged")


def test_a_journal_cut_inside_its_header_is_refused(tmp_path):
    path = tmp_path / "journal.sqlite"
    a_journal_with_batches(path, 1)
    path.write_bytes(path.read_bytes()[:50])
    assert_refused(path)


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("my notes, not a journal\n")
    assert_refused(path, "not an SQLite file")


def test_another_programs_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE things (x)")
    assert_refused(path, "not a qvec job journal")


def test_a_journal_of_a_newer_schema_is_refused_with_the_way_out(tmp_path):
    path = tmp_path / "journal.sqlite"
    a_journal_with_batches(path, 1)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    assert_refused(path, "newer qvec", "schema 99", "upgrade qvec")


def test_a_backend_run_on_a_damaged_journal_fails_before_sending_anything(emulator, tmp_path):
    path = tmp_path / "journal.sqlite"
    path.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(JournalError, match="move the file aside"):
        make_backend(emulator, journal=path).run_circuits([qvec.Circuit(1).h(0)])
    assert emulator.counters()["jobs_created"] == 0


WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from qvec.backends.ionq.journal import JobJournal
    from qvec.backends.ionq.runner import JobUnit

    path, tag, go = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    Path(str(go) + "." + tag).touch()  # ready
    while not go.exists():
        time.sleep(0.01)
    with JobJournal(path) as journal:
        for b in range(15):
            units = [JobUnit([i], {"tag": tag, "batch": b, "i": i}) for i in range(4)]
            record = journal.claim("http://127.0.0.1:1/v0.4", "simulator", None, units)
            for unit in units:
                unit.state, unit.job_id = "running", f"{tag}-{b}-{unit.circuits[0]}"
                record.record(unit)
                unit.state = "completed"
                record.record(unit, [{"0": 1.0}])
            record.release(delivered=True)
""")


def test_two_processes_writing_one_journal_at_once_lose_nothing(tmp_path):
    path, go = tmp_path / "journal.sqlite", tmp_path / "go"
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), tag, str(go)]) for tag in ("a", "b")]
    while not all(Path(f"{go}.{tag}").exists() for tag in ("a", "b")):  # both started: release them together
        assert all(w.poll() is None for w in writers)
        time.sleep(0.01)
    go.touch()
    assert [w.wait() for w in writers] == [0, 0]
    with JobJournal(path) as journal:
        batches = journal.batches()
        assert len(batches) == 30
        assert all(b.status == "completed" and len(b.jobs) == 4 for b in batches)
        assert sorted(job.job_id for b in batches for job in b.jobs) == sorted(
            f"{tag}-{b}-{i}" for tag in "ab" for b in range(15) for i in range(4))
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_the_journal_is_created_with_mode_0600_in_a_private_directory(tmp_path):
    path = tmp_path / "new" / "journal.sqlite"
    JobJournal(path).close()
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert os.path.getsize(path) > 0


def test_a_journal_another_process_created_meanwhile_is_opened_not_refused(tmp_path, monkeypatch):
    """Two processes open a new file at once: the second sees an empty file, waits for the first's schema
    transaction, and must then accept the journal the first created."""
    path = tmp_path / "journal.sqlite"
    JobJournal(path).close()
    real, calls = journal_file._identity, []

    def empty_at_first_look(db):
        calls.append(db)
        return (0, 0) if len(calls) == 1 else real(db)

    monkeypatch.setattr(journal_file, "_identity", empty_at_first_look)
    JobJournal(path).close()
    assert len(calls) == 2
