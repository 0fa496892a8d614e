"""Engines measured side by side: one worker process per engine, timed in interleaved rounds.

This machine's speed drifts by up to 2x within minutes, so figures taken minutes apart (one engine after
another's long JIT compile) carry that drift into their ratios; rounds of one window per engine in turn
spread it over every engine alike, and each engine still has a process of its own (its imports, compile,
threads and crashes touch no other's figures).

The line protocol of a worker (``serve`` here; ``strawberryfields_step.py`` speaks it too): the parent
writes the job as one JSON line on its stdin; the worker builds its step, times its first step (a JIT
peer's compile) and one warm-up step, and answers one JSON line of facts with ``first_step_s``. Then each
``window`` line is answered with ``{"samples_per_s": ...}`` of one window (one untimed step, as the engine
measured before it has had the caches, then steps until at least ``min_seconds`` have passed), and ``finish`` with ``{"peak_rss_mib": ...}`` (the growth of its peak
resident memory since the warm-up step), after which it exits. Between commands a worker blocks on its
stdin, idle.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Callable, TextIO

from .timing import peak_rss_kib, summary, window_rate

__all__ = ["Worker", "protocol_output", "run_interleaved", "serve"]


def protocol_output() -> TextIO:
    """The worker's stdout, kept for protocol lines; whatever else prints to stdout (a peer's banner) goes to
    stderr, so it cannot be mistaken for an answer."""
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    return answers


def serve(step: Callable[[], None], batch: int, min_seconds: float, facts: dict, answers: TextIO) -> None:
    """The worker side of ``run_interleaved``: time the first step and one warm-up step, answer ``facts`` with
    ``first_step_s``, then answer ``window`` and ``finish`` lines from stdin (see the module docstring)."""
    start = time.perf_counter()
    step()
    first_s = time.perf_counter() - start
    baseline = peak_rss_kib()
    step()
    print(json.dumps({**facts, "first_step_s": round(first_s, 3)}), file=answers, flush=True)
    for command in sys.stdin:
        if command.strip() != "window":  # "finish"
            print(json.dumps({"peak_rss_mib": round((peak_rss_kib() - baseline) / 1024, 1)}), file=answers, flush=True)
            return
        step()  # untimed: the engine measured before this one has had the caches
        print(json.dumps({"samples_per_s": window_rate(step, batch, min_seconds)}), file=answers, flush=True)


class WorkerFailed(Exception):
    """A worker crashed, answered something else than the protocol's line, or timed out."""


class Worker:
    """The parent side of one worker process: each answer awaited at most ``timeout_s``; on any failure the
    process is killed and ``error`` says why in one line."""

    def __init__(self, row: dict, command: list[str], job: dict, timeout_s: float):
        self.row, self.command, self.job, self.timeout_s = row, command, job, timeout_s
        self.facts: dict = {}
        self.rates: list[float] = []
        self.error: str | None = None
        self.process: subprocess.Popen | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr = tempfile.TemporaryFile()  # a file, not a pipe: a chatty worker never blocks on it

    def start(self) -> None:
        """Start the process and wait until it is ready (its step built, first and warm-up steps run)."""
        try:  # its own session: Ctrl-C reaches the parent only, which kills the whole group
            self.process = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=self._stderr, text=True, start_new_session=True)
        except OSError as error:
            self.error = f"cannot run {self.command[0]}: {error.strerror}"
            return
        threading.Thread(target=self._read, daemon=True).start()
        self.facts = self._ask(json.dumps(self.job), "first_step_s") or {}

    def window(self) -> None:
        """One timed window, when the worker is still alive."""
        answer = self._ask("window", "samples_per_s")
        if answer:
            self.rates.append(answer["samples_per_s"])

    def finish(self) -> None:
        """Its peak-memory growth; then it exits (killed if it does not)."""
        answer = self._ask("finish", "peak_rss_mib")
        if answer:
            self.facts["peak_rss_mib"] = answer["peak_rss_mib"]
            self.process.stdin.close()  # no more commands: a worker reading on to the end of its input stops too
            with contextlib.suppress(subprocess.TimeoutExpired):  # its figures are complete: close() kills it
                self.process.wait(self.timeout_s)
        self.close()

    def result(self) -> dict:
        """The row: ``row`` with the worker's facts and the median, min and max of its windows, or the error."""
        if self.error is not None:
            return {**self.row, "error": self.error}
        return {**self.row, **self.facts, **summary(self.rates), "protocol": "interleaved"}

    def close(self) -> None:
        """Kill the process if still running and release its stdin and stderr (the reader closes its stdout)."""
        if self.process is not None:
            self._stop()
            with contextlib.suppress(OSError):  # a broken pipe's unflushed command: the process is gone anyway
                self.process.stdin.close()
        self._stderr.close()

    def _stop(self) -> None:
        """Kill the worker's process group (anything it started too) unless it has exited, and reap it."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # it exited in between
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def _read(self) -> None:
        with self.process.stdout:
            for line in self.process.stdout:
                self._lines.put(line)
        self._lines.put(None)

    def _ask(self, command: str, key: str) -> dict | None:
        """Send one line and return the answer, a JSON object with ``key``; None once the worker has failed."""
        if self.error is not None:
            return None
        with contextlib.suppress(OSError):  # it has exited: the end of its output says why
            self.process.stdin.write(command + "\n")
            self.process.stdin.flush()
        try:
            return self._answer(key)
        except WorkerFailed as failure:
            self.error = str(failure)
            self.close()
            return None

    def _answer(self, key: str) -> dict:
        try:
            line = self._lines.get(timeout=self.timeout_s)
        except queue.Empty:
            raise WorkerFailed(f"timed out after {self.timeout_s} s") from None
        if line is None:
            raise WorkerFailed(self._last_words())
        try:
            answer = json.loads(line)
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or key not in answer:
            raise WorkerFailed(f"unexpected output from {self.row.get('engine', 'the worker')}: {line.strip()[:80]!r}")
        return answer

    def _last_words(self) -> str:
        """The last line the dead worker wrote to stderr, or its exit status."""
        self._stop()
        self._stderr.seek(0)
        lines = self._stderr.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit {self.process.returncode}"


def run_interleaved(workers: list[Worker], repeats: int) -> list[dict]:
    """Start the workers one at a time (no compile overlaps anything), then ``repeats`` rounds of one window
    each, in the given order, so the machine's drift reaches every engine alike; one row per worker, in order.
    Every worker is killed on the way out, also on KeyboardInterrupt."""
    try:
        for worker in workers:
            worker.start()
        for _ in range(repeats):
            for worker in workers:
                worker.window()
        for worker in workers:
            worker.finish()
    finally:
        for worker in workers:
            worker.close()
    return [worker.result() for worker in workers]
