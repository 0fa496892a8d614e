"""The journal's SQLite file: where it lives, how it is opened, checked and created.

One file per user (``QVEC_JOURNAL`` or a flag moves it), WAL mode so that readers never block
the writer, a busy timeout so that several processes can share it, mode 0600 because it says
which jobs a user ran. A file qvec did not write, a damaged one, or one from a newer qvec is an
error naming the file and the way out; it is never replaced, repaired or deleted.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from typing import Final

import platformdirs

from qvec.errors import InputError, QvecError

__all__ = ["JournalError", "JOURNAL_ENV", "DEFAULT_JOURNAL", "SCHEMA_VERSION", "journal_path", "open_journal_file"]

JOURNAL_ENV = "QVEC_JOURNAL"
# The value of QVEC_JOURNAL (or of --journal) that turns the journal off.
JOURNAL_OFF = "off"
SCHEMA_VERSION = 1
# PRAGMA application_id of a qvec journal: "qvec" in ASCII. A file without it is not ours.
APPLICATION_ID = 0x71766563
# Seconds a writer waits for another process's transaction before giving up.
BUSY_TIMEOUT_S = 60.0
_SQLITE_HEADER = b"SQLite format 3\x00"
WAY_OUT = ("qvec never replaces or deletes a journal (it may hold results already paid for): move the file aside, "
           f"point {JOURNAL_ENV} (or --journal) at another file, or turn the journal off "
           "(--no-journal, IonQBackend(journal=None))")

_SCHEMA = """
CREATE TABLE batches (
    id TEXT PRIMARY KEY,            -- content digest prefix and occurrence: 'a1b2c3d4e5f60718.0'
    content TEXT NOT NULL,          -- sha256 of the batch's base URL and job bodies
    occurrence INTEGER NOT NULL,    -- the how-many-th identical batch of a run of a program
    base_url TEXT NOT NULL,
    target TEXT NOT NULL,
    shots INTEGER,
    circuits INTEGER NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    owner TEXT,                     -- host:pid:start of the process running it, NULL when none
    UNIQUE (content, occurrence)
);
CREATE TABLE jobs (
    batch_id TEXT NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    unit INTEGER NOT NULL,          -- position of the job in its batch
    circuits TEXT NOT NULL,         -- JSON list of the batch indices the job covers
    body BLOB NOT NULL,             -- zlib-compressed JSON job body (no key in it)
    idempotency_key TEXT NOT NULL,
    job_id TEXT,
    status TEXT NOT NULL,
    submitted REAL,
    updated REAL NOT NULL,
    results BLOB,                   -- zlib-compressed JSON list of distributions, once fetched
    PRIMARY KEY (batch_id, unit)
);
CREATE INDEX batches_by_update ON batches (updated);
"""

_checked: set[str] = set()  # files whose integrity this process has checked
_checked_lock = threading.Lock()


class JournalError(QvecError):
    """The job journal cannot be used: a foreign, damaged or newer file, or one held too long by another process."""


def journal_path(setting: str | os.PathLike[str] | None | object) -> Path | None:
    """The journal file for a setting: a path, ``None`` (off), or ``DEFAULT_JOURNAL`` (``QVEC_JOURNAL``,
    else ``journal.sqlite`` in the per-user data directory); ``QVEC_JOURNAL=off`` turns it off."""
    if setting is None:
        return None
    if setting is DEFAULT_JOURNAL:
        value = os.environ.get(JOURNAL_ENV, "").strip()
        if value.lower() == JOURNAL_OFF:
            return None
        return Path(value).expanduser() if value else Path(platformdirs.user_data_dir("qvec")) / "journal.sqlite"
    if not isinstance(setting, (str, os.PathLike)) or not str(setting).strip():
        raise InputError(f"journal must be a file path, None (off) or left unset, got {setting!r}")
    return Path(setting).expanduser()


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT_JOURNAL"


DEFAULT_JOURNAL: Final = _Default()


def open_journal_file(path: Path) -> sqlite3.Connection:
    """A connection to the journal at ``path``, created (mode 0600) if absent and checked otherwise."""
    _create_empty(path)
    _check_header(path)
    try:
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise journal_error(path, exc) from None
    try:
        _prepare(db, path)
    except BaseException as exc:
        db.close()
        if isinstance(exc, sqlite3.Error):
            raise journal_error(path, exc) from None
        raise
    return db


def journal_error(path: Path, exc: sqlite3.Error) -> JournalError:
    """The error for an SQLite failure on ``path``: busy, or damaged, with the way out."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return JournalError(f"{path}: the job journal stayed locked by another process for {BUSY_TIMEOUT_S:g} s "
                            f"({text}); retry when it finishes, or use another journal ({JOURNAL_ENV}, --journal)")
    return JournalError(f"{path}: the job journal is damaged or unreadable ({text}); {WAY_OUT}")


def _create_empty(path: Path) -> None:
    """Create the file (and its directory) readable by this user only; an existing file is left as it is."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise JournalError(f"{path}: cannot create the job journal ({exc.strerror}); set {JOURNAL_ENV} or --journal "
                           "to a writable path, or turn the journal off (--no-journal)") from None


def _check_header(path: Path) -> None:
    """A non-empty file must start as every SQLite file does; anything else is not a journal."""
    try:
        with open(path, "rb") as file:
            head = file.read(len(_SQLITE_HEADER))
    except OSError as exc:
        raise JournalError(f"{path}: cannot read the job journal ({exc.strerror})") from None
    if head and head != _SQLITE_HEADER:
        raise JournalError(f"{path}: not a qvec job journal (not an SQLite file); {WAY_OUT}")


def _prepare(db: sqlite3.Connection, path: Path) -> None:
    """Settings of every connection, then the schema: created in a new file, checked in an old one."""
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA synchronous = FULL")  # a record of a submission survives a power cut, not only a crash
    app_id, version = _identity(db)
    if app_id == APPLICATION_ID and version == SCHEMA_VERSION:
        _check_integrity(db, path)
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        app_id, version = _identity(db)  # again, inside the transaction: another process may have created it
        if app_id == 0 and version == 0 and not _tables(db):
            for statement in _SCHEMA_STATEMENTS:
                db.execute(statement)
            db.execute("COMMIT")
        elif (app_id, version) == (APPLICATION_ID, SCHEMA_VERSION):
            db.execute("ROLLBACK")
            return
        else:
            db.execute("ROLLBACK")
            _refuse(path, app_id, version)
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("PRAGMA journal_mode = WAL")


_SCHEMA_STATEMENTS = [*(s for s in _SCHEMA.split(";") if s.strip()), f"PRAGMA application_id = {APPLICATION_ID}",
                      f"PRAGMA user_version = {SCHEMA_VERSION}"]


def _identity(db: sqlite3.Connection) -> tuple[int, int]:
    return db.execute("PRAGMA application_id").fetchone()[0], db.execute("PRAGMA user_version").fetchone()[0]


def _tables(db: sqlite3.Connection) -> list[str]:
    return [row[0] for row in db.execute("SELECT name FROM sqlite_master")]


def _refuse(path: Path, app_id: int, version: int) -> None:
    if app_id != APPLICATION_ID:
        raise JournalError(f"{path}: an SQLite file that is not a qvec job journal; {WAY_OUT}")
    if version > SCHEMA_VERSION:
        raise JournalError(f"{path}: written by a newer qvec (journal schema {version}; this qvec reads "
                           f"{SCHEMA_VERSION}): upgrade qvec, or {WAY_OUT}")
    raise JournalError(f"{path}: a qvec job journal of unknown schema version {version}; {WAY_OUT}")


def _check_integrity(db: sqlite3.Connection, path: Path) -> None:
    """``PRAGMA quick_check`` once per file and process: a damaged journal is refused before it is used."""
    key = str(path.resolve())
    with _checked_lock:
        if key in _checked:
            return
        problems = [row[0] for row in db.execute("PRAGMA quick_check(3)")]
        if problems != ["ok"]:
            raise JournalError(f"{path}: the job journal is damaged ({'; '.join(problems)}); {WAY_OUT}")
        _checked.add(key)
