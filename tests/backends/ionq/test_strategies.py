"""Strategies run from synchronous code: Ctrl-C and SIGTERM under a running event loop, shared budgets.

The scripted server (httpx.MockTransport) presses Ctrl-C or sends SIGTERM itself at a chosen point
of the protocol: once circuit 0's results were fetched and circuit 1's job is still running. So
nothing depends on timing, and a strategy that ignored the interrupt would hang (the test's timeout).
"""

import _thread
import asyncio
import json
import os
import signal
import threading

import httpx
import pytest

from qvec.backends.ionq import Concurrent, IonQClient, IonQSettings, PollPolicy, Threads, Timeouts
from qvec.backends.ionq.runner import JobUnit
from qvec.backends.ionq.strategies import BatchContext, parse_strategy
from qvec.errors import BatchInterrupted, InputError, Terminated

FAST = PollPolicy(initial=0.001, factor=1.0, maximum=0.001)
RESULT = {"0": 1.0}


class InterruptingIonQ:
    """Job 0 completes at once, job 1 runs forever; the first poll of job 1 after job 0's results were
    fetched calls ``interrupt``. Cancels are recorded."""

    def __init__(self, interrupt):
        self.interrupt, self.fetched, self.fired = interrupt, False, False
        self.canceled = []
        self.lock = threading.Lock()

    def __call__(self, request):
        path = request.url.path.removeprefix("/v0.4/")
        if request.method == "POST":
            tag = json.loads(request.content)["input"]["tag"]
            return httpx.Response(201, json={"id": f"job-{tag}", "status": "submitted"})
        if request.method == "PUT":
            ids = json.loads(request.content)["ids"] if path == "jobs/status/cancel" else [path.split("/")[1]]
            self.canceled.extend(ids)
            return httpx.Response(200, json={"results": [{"id": i, "status": "canceled"} for i in ids]})
        if path.endswith("results/probabilities"):
            self.fetched = True
            return httpx.Response(200, json=RESULT)
        ids = request.url.params["ids"].split(",") if path == "jobs" else [path.removeprefix("jobs/")]
        with self.lock:
            if self.fetched and "job-1" in ids and not self.fired:
                self.fired = True
                self.interrupt()
        jobs = [self.record(i) for i in ids]
        return httpx.Response(200, json={"jobs": jobs, "next": None} if path == "jobs" else jobs[0])

    @staticmethod
    def record(job_id):
        if job_id == "job-0":
            return {"id": job_id, "status": "completed",
                    "results": {"probabilities": {"url": f"/v0.4/jobs/{job_id}/results/probabilities"}}}
        return {"id": job_id, "status": "started"}


def execute_in_a_running_loop(strategy, server):
    """Call the synchronous ``execute`` from a coroutine, as a notebook cell or async code would."""
    settings = IonQSettings("k", "https://api.example.test/v0.4", "simulator")
    context = BatchContext(lambda: IonQClient(settings, transport=httpx.MockTransport(server)), FAST,
                           Timeouts(), lambda n: None)
    units = [JobUnit([i], {"input": {"tag": i}}) for i in range(2)]

    async def cell():
        return strategy.execute(context, units)

    return asyncio.run(cell())


@pytest.mark.timeout(60)
@pytest.mark.usefixtures("sigint_handled")
@pytest.mark.parametrize("strategy", [Concurrent(), Threads(workers=2)], ids=str)
def test_ctrl_c_under_a_running_event_loop_cancels_the_jobs_and_keeps_completed_results(strategy, caplog):
    server = InterruptingIonQ(_thread.interrupt_main)
    with pytest.raises(BatchInterrupted) as info:
        execute_in_a_running_loop(strategy, server)
    assert type(info.value) is BatchInterrupted and isinstance(info.value, KeyboardInterrupt)
    assert dict(info.value.completed) == {0: RESULT} and info.value.unfinished == [1]
    assert server.canceled == ["job-1"] and "canceled 1 job(s) on the server: job-1" in caplog.text


@pytest.mark.timeout(60)
def test_sigterm_is_handled_as_ctrl_c_and_the_handler_is_restored_afterwards():
    class Escaped(Exception):
        """Raised by the test's own handler: SIGTERM got past the batch."""

    def guard(signum, frame):
        raise Escaped()

    previous = signal.signal(signal.SIGTERM, guard)
    try:
        server = InterruptingIonQ(lambda: os.kill(os.getpid(), signal.SIGTERM))
        with pytest.raises(Terminated, match="terminated") as info:
            execute_in_a_running_loop(Concurrent(), server)
        assert dict(info.value.completed) == {0: RESULT} and server.canceled == ["job-1"]
        assert signal.getsignal(signal.SIGTERM) is guard
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_strategies_parse_and_refuse_bad_counts():
    assert parse_strategy("threads:3") == Threads(workers=3) and parse_strategy(None).name == "packed"
    with pytest.raises(InputError, match="workers must be a positive integer, got 0"):
        Threads(workers=0)


def test_the_clients_of_a_batch_share_one_request_budget():
    settings = IonQSettings("k", "https://api.example.test/v0.4", "simulator")
    context = BatchContext(lambda: IonQClient(settings), FAST, Timeouts(), lambda n: None)
    assert context.client().rate is context.client().rate is context.rate


def test_a_signal_the_program_ignores_stays_ignored_during_a_batch():
    seen = []

    def done(request):
        seen.append(signal.getsignal(signal.SIGTERM))
        return InterruptingIonQ(lambda: None)(request)

    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        settings = IonQSettings("k", "https://api.example.test/v0.4", "simulator")
        context = BatchContext(lambda: IonQClient(settings, transport=httpx.MockTransport(done)), FAST, Timeouts(),
                               lambda n: None)
        assert Concurrent().execute(context, [JobUnit([0], {"input": {"tag": 0}})]) == {0: RESULT}
        assert seen and set(seen) == {signal.SIG_IGN} and signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, previous)
