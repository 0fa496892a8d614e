"""The durable job journal: a remote batch run again after a crash, ``kill -9`` or Ctrl-C pays nothing twice.

Every remote batch is recorded under an id derived from its content (the server's base URL and
every job body: circuits, shots, target, options; never the key). Each job's idempotency key is
written before its POST is sent, then its server job id, its status, and its results once fetched.
Running the same batch again finds what is done (results reused, no request), what is in flight
(polled, not resubmitted), what was being submitted (looked up by its idempotency key) and what was
never accepted, was canceled or failed (submitted now, under a fresh key when a job existed).

Repeating a batch on purpose: within one process, the n-th identical batch whose results were
delivered is followed by a fresh run (a new sample, as without the journal); a rerun of the program
gets back the 1st, 2nd, ... recorded runs in order before anything new is sent. A batch being run by
another live process is never shared: the caller runs its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import threading
import time
import uuid
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import httpx

from qvec.errors import InputError

from .journal_file import JournalError, journal_error, open_journal_file
from .runner import Distribution, JobUnit

__all__ = ["JobJournal", "BatchRecord", "BatchInfo", "JobInfo", "content_id"]

# Job states that an earlier run left with a job that cannot complete: the job is sent again, under a new key.
_RETRY_STATES = ("failed", "canceled")
_DIGEST_CHARS = 16

_delivered: dict[tuple[str, str], int] = {}  # (journal, content) -> batches of it delivered by this process
_delivered_lock = threading.Lock()


@dataclass(frozen=True)
class JobInfo:
    """One job of a batch as the journal holds it."""

    unit: int
    circuits: list[int]
    idempotency_key: str
    job_id: str | None
    status: str
    submitted: float | None
    updated: float
    has_results: bool


@dataclass(frozen=True)
class BatchInfo:
    """One batch as the journal holds it; ``status`` is ``running`` while a live process owns it."""

    id: str
    base_url: str
    target: str
    shots: int | None
    circuits: int
    created: float
    updated: float
    owner: str | None
    jobs: list[JobInfo]

    @property
    def status(self) -> str:
        if self.owner is not None and process_alive(self.owner):
            return "running"
        if all(job.status == "completed" and job.has_results for job in self.jobs):
            return "completed"
        return "incomplete"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "base_url": self.base_url, "target": self.target,
                "shots": self.shots, "circuits": self.circuits, "created": self.created, "updated": self.updated,
                "owner": self.owner, "jobs": [vars(job) for job in self.jobs]}


def account_of(api_key: str) -> str:
    """A one-way digest of the API key that tells accounts apart in the journal without holding the key."""
    return hashlib.sha256(b"qvec journal account\0" + api_key.encode()).hexdigest()


def content_id(base_url: str, units: Sequence[JobUnit], account: str = "") -> str:
    """The sha256 of a batch's server, account (``account_of``) and job bodies (with the circuits each covers):
    equal for equal batches; another key's batch is another batch."""
    content = {"base_url": public_url(base_url), "account": account,
               "jobs": [[unit.circuits, unit.body] for unit in units]}
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def public_url(url: str) -> str:
    """``url`` without user information or query: what may be written to the journal."""
    return str(httpx.URL(url).copy_with(userinfo=b"", query=None))


def _pack(value: Any) -> bytes:
    return zlib.compress(json.dumps(value, separators=(",", ":")).encode(), 1)


def _unpack(blob: bytes) -> Any:
    return json.loads(zlib.decompress(blob))


class JobJournal:
    """The journal at ``path``: ``claim`` a batch before running it; list, show and prune batches."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = open_journal_file(path)
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"JobJournal({str(self.path)!r})"

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> JobJournal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (taken at once, so that two processes never both read then write)."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise journal_error(self.path, exc) from None

    def read(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._db.execute(sql, parameters).fetchall()
            except sqlite3.Error as exc:
                raise journal_error(self.path, exc) from None

    # -- running batches ---------------------------------------------------------------------------
    def claim(self, base_url: str, target: str, shots: int | None, units: Sequence[JobUnit],
              account: str = "") -> BatchRecord:
        """Take the record of this batch (the first identical one not yet delivered in this process and not
        run by a live process), restoring its units' state; a new record when there is none."""
        content = content_id(base_url, units, account)
        counter = (str(self.path), content)
        with _delivered_lock:
            occurrence = _delivered.get(counter, 0)
        with self.transaction() as db:
            while True:
                row = db.execute("SELECT id, owner FROM batches WHERE content = ? AND occurrence = ?",
                                 (content, occurrence)).fetchone()
                if row is None:
                    batch_id = self._insert(db, content, occurrence, base_url, target, shots, units)
                    break
                if row[1] is None or not process_alive(row[1]):
                    batch_id = row[0]
                    _restore(db, batch_id, units)
                    break
                occurrence += 1
            db.execute("UPDATE batches SET owner = ?, updated = ? WHERE id = ?", (process_owner(), time.time(),
                                                                                 batch_id))
        return BatchRecord(self, batch_id, units, counter, occurrence)

    def claim_id(self, batch_id: str) -> tuple[BatchInfo, BatchRecord]:
        """Take a recorded batch by id (for ``qvec jobs resume`` and ``cancel``), its units rebuilt from the journal."""
        info = self.batch(batch_id)
        rows = self.read("SELECT circuits, body, idempotency_key FROM jobs WHERE batch_id = ? ORDER BY unit",
                         (info.id,))
        units = [JobUnit(json.loads(circuits), _unpack(body), key) for circuits, body, key in rows]
        with self.transaction() as db:
            owner = db.execute("SELECT owner FROM batches WHERE id = ?", (info.id,)).fetchone()[0]
            if owner is not None and process_alive(owner):
                raise JournalError(f"batch {info.id} is being run by process {owner}; stop that process first")
            _restore(db, info.id, units)
            db.execute("UPDATE batches SET owner = ?, updated = ? WHERE id = ?", (process_owner(), time.time(),
                                                                                 info.id))
        return info, BatchRecord(self, info.id, units, None, 0)

    def _insert(self, db: sqlite3.Connection, content: str, occurrence: int, base_url: str, target: str,
                shots: int | None, units: Sequence[JobUnit]) -> str:
        batch_id, now = f"{content[:_DIGEST_CHARS]}.{occurrence}", time.time()
        db.execute("INSERT INTO batches (id, content, occurrence, base_url, target, shots, circuits, created, updated) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (batch_id, content, occurrence, public_url(base_url), target,
                                                          shots, sum(len(u.circuits) for u in units), now, now))
        db.executemany("INSERT INTO jobs (batch_id, unit, circuits, body, idempotency_key, status, updated) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [(batch_id, index, json.dumps(unit.circuits), _pack(unit.body), unit.key, unit.state, now)
                        for index, unit in enumerate(units)])
        return batch_id

    # -- reading -----------------------------------------------------------------------------------
    def batches(self) -> list[BatchInfo]:
        """Every batch, newest first."""
        return [self._info(row) for row in self.read(f"SELECT {_BATCH_COLUMNS} FROM batches ORDER BY updated DESC")]

    def batch(self, batch_id: str) -> BatchInfo:
        """The batch with this id, or with this unique id prefix; ``InputError`` if none (or several) match."""
        rows = self.read(f"SELECT {_BATCH_COLUMNS} FROM batches WHERE id = ? OR id LIKE ? ESCAPE '\\' "
                         "ORDER BY id = ? DESC", (batch_id, _like_prefix(batch_id), batch_id))
        if not rows:
            raise InputError(f"no batch {batch_id!r} in the job journal {self.path}")
        if rows[0][0] != batch_id and len(rows) > 1:
            raise InputError(f"batch id {batch_id!r} is ambiguous in {self.path}: "
                             f"{', '.join(row[0] for row in rows[:5])}")
        return self._info(rows[0])

    def results(self, batch_id: str) -> dict[int, Distribution]:
        """The fetched results of a batch, by batch index."""
        found: dict[int, Distribution] = {}
        for circuits, blob in self.read("SELECT circuits, results FROM jobs WHERE batch_id = ? AND results IS NOT NULL",
                                        (batch_id,)):
            found.update(zip(json.loads(circuits), _unpack(blob)))
        return found

    def _info(self, row: tuple[Any, ...]) -> BatchInfo:
        jobs = [JobInfo(unit, json.loads(circuits), key, job_id, status, submitted, updated, bool(has))
                for unit, circuits, key, job_id, status, submitted, updated, has in self.read(
                    "SELECT unit, circuits, idempotency_key, job_id, status, submitted, updated, results IS NOT NULL "
                    "FROM jobs WHERE batch_id = ? ORDER BY unit", (row[0],))]
        return BatchInfo(*row, jobs)

    def prune(self, older_than_s: float) -> tuple[list[str], list[str]]:
        """Delete finished batches not updated for ``older_than_s`` seconds; (deleted ids, kept unfinished ids).

        A batch with jobs that may still run on the server, or being run, is kept: forgetting it would
        make a rerun pay for them again.
        """
        cutoff = time.time() - older_than_s
        old = [self._info(row) for row in self.read(f"SELECT {_BATCH_COLUMNS} FROM batches WHERE updated < ?",
                                                    (cutoff,))]
        doomed = [b.id for b in old if b.status != "running" and not _in_flight(b)]
        with self.transaction() as db:
            db.executemany("DELETE FROM batches WHERE id = ? AND updated < ?", [(i, cutoff) for i in doomed])
        return doomed, [b.id for b in old if b.id not in doomed]


_BATCH_COLUMNS = "id, base_url, target, shots, circuits, created, updated, owner"


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _in_flight(batch: BatchInfo) -> bool:
    """Whether a job of the batch exists, or may, and has not finished."""
    return any(job.status in ("submitting", "running", "completed on the server") for job in batch.jobs)


def _restore(db: sqlite3.Connection, batch_id: str, units: Sequence[JobUnit]) -> None:
    """Give each unit what an earlier run recorded: results, a job to poll, a key to look up, or a fresh start."""
    rows = db.execute("SELECT unit, circuits, idempotency_key, job_id, status, submitted, results FROM jobs "
                      "WHERE batch_id = ? ORDER BY unit", (batch_id,)).fetchall()
    if [json.loads(row[1]) for row in rows] != [unit.circuits for unit in units]:
        raise JournalError(f"batch {batch_id}: the journal's jobs do not match the batch's; the record is inconsistent")
    for unit, (_, _, key, job_id, status, submitted, results) in zip(units, rows):
        unit.key, unit.first_submitted = key, submitted or 0.0
        if status == "completed" and results is not None:
            unit.job_id, unit.state, unit.restored = job_id, "completed", _unpack(results)
        elif job_id is not None and status not in _RETRY_STATES:
            unit.job_id, unit.state = job_id, "running"
        elif status == "submitting":
            unit.state = "submitting"
        elif status in _RETRY_STATES:  # its job ended without results: a new job, under a new key
            unit.key, unit.first_submitted = uuid.uuid4().hex, 0.0


class BatchRecord:
    """A claimed batch: records what becomes of each unit, and is released when the batch ends."""

    def __init__(self, journal: JobJournal, batch_id: str, units: Sequence[JobUnit],
                 counter: tuple[str, str] | None, occurrence: int) -> None:
        self.journal, self.batch_id, self.units = journal, batch_id, list(units)
        self._positions = {id(unit): index for index, unit in enumerate(units)}
        self._counter, self._occurrence = counter, occurrence
        for unit in units:
            unit.recorder = self

    def __repr__(self) -> str:
        return f"BatchRecord({self.batch_id!r}, {self.journal!r})"

    def record(self, unit: JobUnit, results: Sequence[Distribution] | None = None) -> None:
        """Write ``unit``'s key, job id, status and times (and its results when given) in one transaction."""
        now = time.time()
        with self.journal.transaction() as db:
            db.execute("UPDATE jobs SET idempotency_key = ?, job_id = ?, status = ?, submitted = ?, updated = ?, "
                       "results = COALESCE(?, results) WHERE batch_id = ? AND unit = ?",
                       (unit.key, unit.job_id, unit.state, unit.first_submitted or None, now,
                        None if results is None else _pack(list(results)), self.batch_id, self._positions[id(unit)]))
            db.execute("UPDATE batches SET updated = ? WHERE id = ?", (now, self.batch_id))

    def discard(self, units: Sequence[JobUnit]) -> None:
        """Forget the results of ``units`` (they failed validation): their jobs count as failed, to be sent again."""
        with self.journal.transaction() as db:
            db.executemany("UPDATE jobs SET status = 'failed', results = NULL, updated = ? WHERE batch_id = ? AND unit = ?",
                           [(time.time(), self.batch_id, self._positions[id(unit)]) for unit in units])

    def release(self, delivered: bool) -> None:
        """Give the batch up; a ``delivered`` batch makes the next identical one in this process a fresh run."""
        with self.journal.transaction() as db:
            db.execute("UPDATE batches SET owner = NULL, updated = ? WHERE id = ?", (time.time(), self.batch_id))
        if delivered and self._counter is not None:
            with _delivered_lock:
                _delivered[self._counter] = max(_delivered.get(self._counter, 0), self._occurrence + 1)


# -- which process runs a batch ----------------------------------------------------------------------
def _start_time(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc), or ``None`` where /proc is absent;
    ``"zombie"`` for a process that has exited but not been reaped."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return "zombie" if fields[0] in ("Z", "X") else fields[19]


def process_owner() -> str:
    """This process as the journal names it: ``host:pid:start``."""
    return f"{socket.gethostname()}:{os.getpid()}:{_start_time(os.getpid()) or '-'}"


def process_alive(owner: str) -> bool:
    """Whether the process named ``owner`` still runs; one on another host counts as alive (it cannot be checked)."""
    host, pid, start = owner.rsplit(":", 2)
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    now = _start_time(int(pid))
    return now != "zombie" and (start == "-" or now is None or now == start)
