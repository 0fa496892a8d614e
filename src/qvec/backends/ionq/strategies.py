"""Execution strategies: how a batch of bound circuits becomes jobs, and how those jobs are run.

- ``Sequential``: one job per circuit, one at a time (the field report's "before").
- ``Threads(workers)``: one job per circuit, a fixed pool of OS threads (the report's fix).
- ``Concurrent(max_in_flight)``: one job per circuit, async, a bound on jobs in flight.
- ``Packed(max_in_flight, limits)``: circuits packed into multi-circuit jobs, submitted concurrently
  (the default: fewest jobs, so fewest round trips and queue waits).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Coroutine, Mapping, Sequence

from qvec.errors import InputError, JobTimeoutError

from .client import IonQClient
from .packing import DEFAULT_LIMITS, PackingLimits, pack_circuits
from .runner import Advance, Distribution, JobRunner, JobUnit, describe_units, run_units
from .settings import PollPolicy, Timeouts

__all__ = ["Strategy", "Sequential", "Threads", "Concurrent", "Packed", "BatchContext", "parse_strategy"]

logger = logging.getLogger("qvec.backends.ionq")


@dataclass(frozen=True)
class BatchContext:
    """What a strategy needs to run units: a client factory, polling, timeouts and a progress hook."""

    make_client: Callable[[], IonQClient]
    poll: PollPolicy
    timeouts: Timeouts
    advance: Advance


class Strategy:
    """How circuits are grouped into jobs (``group``) and how the jobs run (``run``)."""

    name = "strategy"
    max_in_flight = 1

    def group(self, entries: Sequence[dict[str, Any]]) -> list[list[int]]:
        """One job per circuit unless a strategy packs them."""
        return [[i] for i in range(len(entries))]

    def execute(self, context: BatchContext, units: Sequence[JobUnit]) -> dict[int, Distribution]:
        """Run the units from synchronous code; returns distributions keyed by input index."""
        return run_sync(self.run(context, units))

    async def run(self, context: BatchContext, units: Sequence[JobUnit]) -> dict[int, Distribution]:
        """Run the units on this event loop, with ``self.max_in_flight`` jobs at once."""
        async with context.make_client() as client:
            return await run_units(JobRunner(client, context.poll), units, self.max_in_flight, context.advance,
                                   context.timeouts.batch)


@dataclass(frozen=True)
class Sequential(Strategy):
    """One job per circuit, submitted and awaited one at a time."""

    name = "sequential"


@dataclass(frozen=True)
class Concurrent(Strategy):
    """One job per circuit, up to ``max_in_flight`` jobs at once on one event loop."""

    max_in_flight: int = 64
    name = "concurrent"

    def __post_init__(self) -> None:
        _check_positive("max_in_flight", self.max_in_flight)


@dataclass(frozen=True)
class Packed(Strategy):
    """Circuits packed into multi-circuit jobs within ``limits``, up to ``max_in_flight`` jobs at once."""

    max_in_flight: int = 16
    limits: PackingLimits = field(default=DEFAULT_LIMITS)
    name = "packed"

    def __post_init__(self) -> None:
        _check_positive("max_in_flight", self.max_in_flight)

    def group(self, entries: Sequence[dict[str, Any]]) -> list[list[int]]:
        return pack_circuits(entries, self.limits)


@dataclass(frozen=True)
class Threads(Strategy):
    """One job per circuit, run by a fixed pool of ``workers`` threads, each with its own client."""

    workers: int = 10
    name = "threads"

    def __post_init__(self) -> None:
        _check_positive("workers", self.workers)

    def execute(self, context: BatchContext, units: Sequence[JobUnit]) -> dict[int, Distribution]:
        return _ThreadPoolRun(context, units, self.workers).run()

    async def run(self, context: BatchContext, units: Sequence[JobUnit]) -> dict[int, Distribution]:
        pool = _ThreadPoolRun(context, units, self.workers)
        future = asyncio.get_running_loop().run_in_executor(None, pool.run)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            pool.cancel("interrupted")
            with contextlib.suppress(BaseException):
                await future
            raise


class _ThreadPoolRun:
    """The worker threads of one ``Threads`` batch; each runs units on its own event loop."""

    def __init__(self, context: BatchContext, units: Sequence[JobUnit], workers: int) -> None:
        self.context, self.units = context, list(units)
        self._queue: queue.SimpleQueue[JobUnit] = queue.SimpleQueue()
        for unit in self.units:
            self._queue.put(unit)
        # Each worker sets its event when it has finished, cleanup included. The run waits on these
        # rather than on Thread.join(): a join interrupted by Ctrl-C can return early afterwards
        # while the thread still runs, and the report would miss the jobs it is canceling.
        self._finished = [threading.Event() for _ in range(min(workers, len(units)))]
        self._threads = [threading.Thread(target=self._work, args=(event,), daemon=True) for event in self._finished]
        self._lock = threading.Lock()
        self._loops: list[tuple[asyncio.AbstractEventLoop, asyncio.Task]] = []
        self._stop_reason: str | None = None
        self.results: dict[int, Distribution] = {}
        self.errors: list[BaseException] = []

    def run(self) -> dict[int, Distribution]:
        """Start the workers and wait for them; cancel everything on an error, timeout or Ctrl-C."""
        timeout = self.context.timeouts.batch
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.start()
        try:
            for finished in self._finished:
                while not finished.wait(0.05):
                    if self.errors:
                        self.cancel(f"stopping after an error ({type(self.errors[0]).__name__})")
                    elif deadline is not None and time.monotonic() > deadline:
                        self.cancel("batch timed out")
        except BaseException:
            self.cancel("interrupted")
            for finished in self._finished:
                finished.wait()
            self._report()
            raise
        self._report()
        return self._finish()

    @property
    def canceled(self) -> list[JobUnit]:
        """The units whose jobs were canceled on the server."""
        return [u for u in self.units if u.state == "canceled"]

    def _finish(self) -> dict[int, Distribution]:
        if self.errors:
            raise self.errors[0]
        if self._stop_reason == "interrupted":
            raise asyncio.CancelledError("interrupted")
        if self._stop_reason is not None:
            unfinished = [u for u in self.units if u.state != "done"]
            raise JobTimeoutError(f"the batch did not finish within {self.context.timeouts.batch} s; canceled: "
                                  f"{describe_units(self.canceled) or 'none'}",
                                  job_ids=[u.job_id for u in unfinished if u.job_id],
                                  circuits=sorted(i for u in unfinished for i in u.circuits))
        return self.results

    def _report(self) -> None:
        if self.canceled:
            logger.warning("%s: canceled %d job(s) on the server: %s", self._stop_reason, len(self.canceled),
                           describe_units(self.canceled))

    def cancel(self, reason: str) -> None:
        """Stop taking units and cancel each worker's task (its job is canceled on the server).

        Only the first call cancels: a second ``task.cancel()`` would interrupt the worker while it
        cancels its job on the server, leaving that job running (and billed).
        """
        with self._lock:
            if self._stop_reason is not None:
                return
            self._stop_reason = reason
            for loop, task in self._loops:
                if not loop.is_closed():
                    loop.call_soon_threadsafe(task.cancel)

    def _work(self, finished: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        task = loop.create_task(self._drain())
        with self._lock:
            self._loops.append((loop, task))
            if self._stop_reason is not None:
                task.cancel()
        try:
            loop.run_until_complete(task)
        except asyncio.CancelledError:
            pass
        except BaseException as exc:  # handed to the main thread, which raises it
            with self._lock:
                self.errors.append(exc)
        finally:
            with self._lock:
                loop.close()
            finished.set()

    async def _drain(self) -> None:
        async with self.context.make_client() as client:
            runner = JobRunner(client, self.context.poll)
            while self._stop_reason is None:
                try:
                    unit = self._queue.get_nowait()
                except queue.Empty:
                    return
                try:
                    distributions = await runner.run_unit(unit)
                except BaseException:
                    # A fresh task: this one may have been cancelled, and httpx's anyio layer would
                    # cancel the cancel request too, after the server had acted on it.
                    await asyncio.create_task(runner.cancel_in_flight([unit]))
                    raise
                with self._lock:
                    self.results.update(zip(unit.circuits, distributions))
                self.context.advance(len(unit.circuits))


def run_sync(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine to completion from synchronous code, in a helper thread if a loop is running here."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


def _check_positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{name} must be a positive integer, got {value!r}")


_BY_NAME: Mapping[str, Callable[[int | None], Strategy]] = {
    "sequential": lambda n: Sequential(),
    "threads": lambda n: Threads() if n is None else Threads(workers=n),
    "concurrent": lambda n: Concurrent() if n is None else Concurrent(max_in_flight=n),
    "packed": lambda n: Packed() if n is None else Packed(max_in_flight=n),
}


def parse_strategy(value: str | Strategy | None) -> Strategy:
    """A strategy object from ``None`` (packed), an object, or a name such as ``"threads"`` or ``"threads:10"``."""
    if value is None:
        return Packed()
    if isinstance(value, Strategy):
        return value
    name, _, count = str(value).strip().lower().partition(":")
    if name not in _BY_NAME or (count and not count.isdigit()):
        raise InputError(f"unknown IonQ strategy {value!r}; expected one of {', '.join(_BY_NAME)} "
                         "(optionally with ':N' for workers or jobs in flight)")
    return _BY_NAME[name](int(count) if count else None)
