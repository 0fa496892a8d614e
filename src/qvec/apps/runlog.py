"""A training run's folder (``--out DIR``): its config, per-epoch metrics and a checkpoint per epoch.

Every file is written atomically (a temporary file, then ``os.replace``), so a crash or Ctrl-C at any
moment leaves either the old file or the new one. The checkpoint holds the metrics history and the
random states too: a run resumed from it replays exactly what an uninterrupted run would have done.

    run = RunDir(out, config, resume=resume)
    state = run.load_checkpoint(generators=[gen])     # None on a fresh run; RNG states restored
    for epoch in range(run.epochs_done + 1, epochs + 1):
        row = train_one_epoch(...)                   # Ctrl-C here discards the partial epoch
        with defer_interrupts():                      # ...but never half an end-of-epoch write
            run.end_epoch(row, {"model": ..., "optimizer": ...}, generators=[gen])
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
import torch

from qvec.errors import InputError

__all__ = ["RunDir", "defer_interrupts", "rng_state", "restore_rng_state", "write_atomic"]

CONFIG = "config.json"
METRICS_JSON = "metrics.json"
METRICS_CSV = "metrics.csv"
CHECKPOINT = "checkpoint.pt"


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide the results from the rest of a team
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=2) + "\n").encode()


def _csv_bytes(rows: Sequence[dict[str, Any]]) -> bytes:
    """The rows as CSV; the header is every key in order of first appearance (missing cells left empty)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode()


def rng_state(generators: Sequence[torch.Generator] = ()) -> dict[str, Any]:
    """The states of torch's, numpy's and Python's global generators and of ``generators``, as tensors and
    plain values (what ``torch.load(weights_only=True)`` reads back)."""
    numpy_state = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "numpy": [numpy_state[0], torch.from_numpy(numpy_state[1].astype(np.int64)), *map(_plain, numpy_state[2:])],
        "python": _tuples_to_lists(random.getstate()),
        "generators": [generator.get_state() for generator in generators],
    }


def restore_rng_state(state: dict[str, Any], generators: Sequence[torch.Generator] = ()) -> None:
    """Put back what ``rng_state`` captured, into the global generators and ``generators`` (same order)."""
    if len(state["generators"]) != len(generators):
        raise InputError(f"the checkpoint holds {len(state['generators'])} generator state(s), "
                         f"the run uses {len(generators)}")
    torch.set_rng_state(state["torch"])
    name, key, *rest = state["numpy"]
    np.random.set_state((name, key.numpy().astype(np.uint32), *rest))
    random.setstate(_lists_to_tuples(state["python"]))
    for generator, generator_state in zip(generators, state["generators"]):
        generator.set_state(generator_state)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _tuples_to_lists(value: Any) -> Any:
    return [_tuples_to_lists(v) for v in value] if isinstance(value, (tuple, list)) else value


def _lists_to_tuples(value: Any) -> Any:
    return tuple(_lists_to_tuples(v) for v in value) if isinstance(value, (tuple, list)) else value


@contextmanager
def defer_interrupts() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends, then deliver them to the handlers in place before,
    so that an end-of-epoch write (checkpoint, then metrics) is never cut in half."""
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield
        return
    received: list[int] = []
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.signal(signum, lambda signum, frame: received.append(signum)) for signum in signals}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(received):
            signal.raise_signal(signum)


class RunDir:
    """The folder of one training run: ``config.json``, ``metrics.json``/``metrics.csv`` and ``checkpoint.pt``.

    ``config`` holds every setting that changes the result; on ``resume`` it must equal the saved one except
    for the keys in ``may_change`` (``epochs`` by default: a run may be extended). Without ``resume``, a
    folder that already holds a checkpoint is refused rather than overwritten.
    """

    def __init__(self, out: Path | str, config: dict[str, Any], resume: bool,
                 may_change: Iterable[str] = ("epochs",)) -> None:
        self.path = Path(out)
        self.config = json.loads(json.dumps(config))  # what config.json will hold, so comparisons are like for like
        self.history: list[dict[str, Any]] = []
        if self.path.exists() and not self.path.is_dir():
            raise InputError(f"--out {self.path}: exists and is not a folder")
        if not resume and (self.path / CHECKPOINT).exists():
            raise InputError(f"--out {self.path} already holds a training run: use --resume or another --out")
        if resume:
            self._check_config(set(may_change))
        self.path.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path / CONFIG, _json_bytes(self.config))

    def _check_config(self, may_change: set[str]) -> None:
        """Refuse to resume with a setting that changes the result (naming the first one that differs)."""
        path = self.path / CONFIG
        if not path.exists():
            return
        try:
            saved = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise InputError(f"{path}: not a readable config ({exc})") from exc
        for key in sorted(set(saved) | set(self.config)):
            if key not in may_change and saved.get(key) != self.config.get(key):
                raise InputError(f"--resume: {key} was {saved.get(key)!r} in {path}, now {self.config.get(key)!r}; "
                                 "it changes the result: use the same value or another --out")

    @property
    def epochs_done(self) -> int:
        """Epochs completed and checkpointed so far."""
        return len(self.history)

    def log_epoch(self, row: dict[str, Any]) -> None:
        """Append ``row`` to the history and rewrite ``metrics.json`` and ``metrics.csv``."""
        self.history.append(json.loads(json.dumps(row)))
        self._write_metrics()

    def _write_metrics(self) -> None:
        write_atomic(self.path / METRICS_JSON, _json_bytes(self.history))
        write_atomic(self.path / METRICS_CSV, _csv_bytes(self.history))

    def save_checkpoint(self, state: dict[str, Any], generators: Sequence[torch.Generator] = ()) -> None:
        """``torch.save`` ``state`` (model and optimizer state_dicts, say) with the history and RNG states."""
        buffer = io.BytesIO()
        torch.save({**state, "history": self.history, "rng": rng_state(generators)}, buffer)
        write_atomic(self.path / CHECKPOINT, buffer.getvalue())

    def end_epoch(self, row: dict[str, Any], state: dict[str, Any], generators: Sequence[torch.Generator] = ()) -> None:
        """Close an epoch: the checkpoint (which carries ``row`` in its history), then the metrics files."""
        self.history.append(json.loads(json.dumps(row)))
        self.save_checkpoint(state, generators)
        self._write_metrics()

    def load_checkpoint(self, generators: Sequence[torch.Generator] = ()) -> dict[str, Any] | None:
        """The saved state (None if there is none); restores the RNG states and the history it carries,
        and rewrites the metrics files from it (they may lag the checkpoint after a crash)."""
        path = self.path / CHECKPOINT
        if not path.exists():
            return None
        try:
            state = torch.load(path, weights_only=True)
        except Exception as exc:  # torch raises several types for a damaged or foreign file
            raise InputError(f"{path}: not a readable checkpoint ({exc})") from exc
        restore_rng_state(state.pop("rng"), generators)
        self.history = state.pop("history")
        self._write_metrics()
        return state

    def kept_message(self) -> str:
        """What an interrupted run keeps, for the one line the CLI prints."""
        if not self.history:
            return f"no epoch completed; nothing kept in {self.path}"
        return (f"kept {self.epochs_done} completed epoch(s) in {self.path} (checkpoint.pt, metrics); "
                "--resume continues from there")
