"""Execution strategies: how a batch of bound circuits becomes jobs, and how those jobs are run.

- ``Sequential``: one job per circuit, one at a time (the field report's "before").
- ``Threads(workers)``: one job per circuit, a fixed pool of OS threads (the report's fix).
- ``Concurrent(max_in_flight)``: one job per circuit, async, a bound on jobs in flight.
- ``Packed(max_in_flight, limits)``: circuits packed into multi-circuit jobs, submitted concurrently
  (the default: fewest jobs, so fewest round trips and queue waits).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Coroutine, Iterator, Mapping, Sequence

from qvec.errors import BatchInterrupted, InputError, Terminated

from .client import IonQClient
from .packing import DEFAULT_LIMITS, PackingLimits, pack_circuits
from .ratelimit import RateBudget
from .runner import INTERRUPTED, TIMED_OUT, Advance, BatchRun, Distribution, JobRunner, JobUnit, run_units
from .settings import PollPolicy, Timeouts

__all__ = ["Strategy", "Sequential", "Threads", "Concurrent", "Packed", "BatchContext", "parse_strategy", "run_sync"]

logger = logging.getLogger("qvec.backends.ionq")

# How often a waiting thread wakes to check a deadline (it is woken at once by an event otherwise).
_WAKE_S = 0.05


@dataclass(frozen=True)
class BatchContext:
    """What a strategy needs to run units: a client factory, polling, timeouts, a progress hook, and the
    request budget every client of the batch shares."""

    make_client: Callable[[], IonQClient]
    poll: PollPolicy
    timeouts: Timeouts
    advance: Advance
    rate: RateBudget = field(default_factory=RateBudget)

    def client(self) -> IonQClient:
        """A fresh client (one per event loop) that draws on the batch's request budget."""
        client = self.make_client()
        client.rate = self.rate
        return client

    def runner(self, client: IonQClient) -> JobRunner:
        return JobRunner(client, self.poll, self.timeouts.stall)


class Strategy:
    """How circuits are grouped into jobs (``group``) and how the jobs run (``run``)."""

    name = "strategy"
    max_in_flight = 1

    def group(self, entries: Sequence[dict[str, Any]]) -> list[list[int]]:
        """One job per circuit unless a strategy packs them."""
        return [[i] for i in range(len(entries))]

    def execute(self, context: BatchContext, units: Sequence[JobUnit]) -> dict[int, Distribution]:
        """Run the units from synchronous code; returns distributions keyed by input index.

        Ctrl-C (and SIGTERM, in the main thread) cancels the jobs in flight and raises
        ``BatchInterrupted`` (``Terminated``) carrying what completed, under a running event loop too.
        """
        batch = BatchRun(units)
        try:
            return run_sync(self.run_batch(context, batch))
        except BatchInterrupted as interrupt:
            raise batch.interrupted(type(interrupt), str(interrupt)) from None
        except KeyboardInterrupt:
            raise batch.interrupted(BatchInterrupted, "interrupted (Ctrl-C)") from None

    async def run(self, context: BatchContext, units: Sequence[JobUnit]) -> dict[int, Distribution]:
        """Run the units on this event loop; cancelling the task cancels the jobs on the server."""
        return await self.run_batch(context, BatchRun(units))

    async def run_batch(self, context: BatchContext, batch: BatchRun) -> dict[int, Distribution]:
        """Run ``batch`` with ``self.max_in_flight`` jobs at once, recording what becomes of each unit."""
        async with context.client() as client:
            return await run_units(context.runner(client), batch, self.max_in_flight, context.advance,
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
    """One job per circuit, run by a fixed pool of ``workers`` threads, each with its own client; the
    clients share one request budget."""

    workers: int = 10
    name = "threads"

    def __post_init__(self) -> None:
        _check_positive("workers", self.workers)

    async def run_batch(self, context: BatchContext, batch: BatchRun) -> dict[int, Distribution]:
        pool = _ThreadPoolRun(context, batch, self.workers)
        future = asyncio.get_running_loop().run_in_executor(None, pool.run)
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:
            pool.stop(INTERRUPTED)
            with contextlib.suppress(BaseException):
                await future
            raise
        return batch.finish(context.timeouts.batch)


class _ThreadPoolRun:
    """The worker threads of one ``Threads`` batch; each runs units on its own event loop.

    When the batch stops, the workers' tasks are canceled and the coordinating thread settles the
    batch once, so that one bulk request cancels every job and one report names them.
    """

    def __init__(self, context: BatchContext, batch: BatchRun, workers: int) -> None:
        self.context, self.batch = context, batch
        self._queue: queue.SimpleQueue[JobUnit] = queue.SimpleQueue()
        for unit in batch.units:
            self._queue.put(unit)
        # Each worker sets its event when it has finished. The run waits on these rather than on
        # Thread.join(): a join interrupted by a signal can return early while the thread still runs.
        self._finished = [threading.Event() for _ in range(min(workers, len(batch.units)))]
        self._threads = [threading.Thread(target=self._work, args=(event,), daemon=True) for event in self._finished]
        self._lock = threading.Lock()
        self._loops: list[tuple[asyncio.AbstractEventLoop, asyncio.Task]] = []
        self._errors: list[BaseException] = []

    def run(self) -> None:
        """Start the workers, wait for them (stopping them on a stop or the batch timeout), then settle."""
        timeout = self.context.timeouts.batch
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.start()
        for finished in self._finished:
            while not finished.wait(_WAKE_S):
                if deadline is not None and time.monotonic() > deadline:
                    self.stop(TIMED_OUT)
                elif self.batch.stopping:
                    self._cancel_workers()
        if self.batch.in_flight():
            asyncio.run(self._settle())
        if self._errors:
            raise self._errors[0]

    def stop(self, reason: str) -> None:
        """Stop the batch with ``reason`` and cancel each worker's task."""
        self.batch.stop(reason)
        self._cancel_workers()

    def _cancel_workers(self) -> None:
        with self._lock:
            for loop, task in self._loops:
                if not loop.is_closed():
                    loop.call_soon_threadsafe(task.cancel)
            self._loops.clear()  # one cancel each: a second would interrupt a worker's own cleanup

    async def _settle(self) -> None:
        async with self.context.client() as client:
            reason = self.batch.stop_reason or "after requests that got no answer"
            await self.context.runner(client).settle(self.batch, reason)

    def _work(self, finished: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        task = loop.create_task(self._drain())
        with self._lock:
            self._loops.append((loop, task))
        try:
            loop.run_until_complete(task)
        except asyncio.CancelledError:
            pass
        except BaseException as exc:  # not an IonQError (those are recorded per unit): a defect; raised above
            with self._lock:
                self._errors.append(exc)
        finally:
            with self._lock:
                _close(loop)
            finished.set()

    async def _drain(self) -> None:
        async with self.context.client() as client:
            runner = self.context.runner(client)
            while not self.batch.stopping:
                try:
                    unit = self._queue.get_nowait()
                except queue.Empty:
                    return
                await runner.run_into(self.batch, unit, self.context.advance)


def run_sync(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine to completion from synchronous code, on a fresh event loop in a helper thread.

    This thread only waits, so Ctrl-C (and SIGTERM, when this is the main thread) reach it even
    under a running event loop (Jupyter, or async code calling the sync API): the coroutine's task
    is then cancelled, its cleanup runs (canceling jobs on the server), and the interrupt is raised.
    A second Ctrl-C stops waiting for that cleanup.
    """
    loop = asyncio.new_event_loop()
    task = loop.create_task(coroutine)
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def drive() -> None:
        asyncio.set_event_loop(loop)  # this thread's own, for code that asks for the current loop
        try:
            outcome["result"] = loop.run_until_complete(task)
        except BaseException as exc:  # handed to the waiting thread, which raises it
            outcome["error"] = exc
        finally:
            try:
                _close(loop)
            finally:
                done.set()

    with _signals_as_interrupts():  # before the batch starts: a signal in its first moments is the batch's too
        threading.Thread(target=drive, name="qvec-batch", daemon=True).start()
        try:
            _wait(done)
        except KeyboardInterrupt:
            loop.call_soon_threadsafe(task.cancel)
            _wait_for_cleanup(done)
            raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def _wait(done: threading.Event) -> None:
    while not done.wait(_WAKE_S * 5):
        pass


def _wait_for_cleanup(done: threading.Event) -> None:
    try:
        _wait(done)
    except KeyboardInterrupt:
        logger.warning("interrupted again: not waiting for the jobs in flight to be canceled; check them on the server")


def _close(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is left on ``loop`` and close it, as ``asyncio.run`` does."""
    try:
        leftover = asyncio.all_tasks(loop)
        for task in leftover:
            task.cancel()
        if leftover:
            loop.run_until_complete(asyncio.gather(*leftover, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        asyncio.set_event_loop(None)
        loop.close()


@contextlib.contextmanager
def _signals_as_interrupts() -> Iterator[None]:
    """While a batch runs in the main thread: SIGTERM raises ``Terminated`` (handled as Ctrl-C is), and
    Ctrl-C raises ``KeyboardInterrupt`` at once, even where a running event loop had taken SIGINT over
    (``asyncio.run`` only cancels its task, which cannot run while this thread waits)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: Any) -> None:
        raise Terminated("terminated (SIGTERM)")

    wanted = {signal.SIGTERM: terminate, signal.SIGINT: signal.default_int_handler}
    # A signal the program ignores on purpose (a shell's background job ignores SIGINT) stays ignored.
    previous = {signum: signal.signal(signum, handler) for signum, handler in wanted.items()
                if signal.getsignal(signum) is not signal.SIG_IGN}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


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
