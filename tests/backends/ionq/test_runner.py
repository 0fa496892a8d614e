"""run_units against a scripted IonQ (httpx.MockTransport): what a batch keeps and reports when it stops.

Each unit's job follows a script of statuses, one per poll, the last repeated; the script also says
what a cancel answers. Nothing here waits on time: polls are counted, not timed.
"""

import asyncio
import json
import logging

import httpx
import pytest

from qvec.backends.ionq import IonQClient, IonQSettings, PollPolicy, RetryPolicy
from qvec.backends.ionq.poller import JobPoller
from qvec.backends.ionq.runner import BatchRun, JobRunner, JobUnit, run_units
from qvec.errors import IonQError, JobFailedError, RequestError

FAST = PollPolicy(initial=0.001, factor=1.0, maximum=0.001)
QUICK = RetryPolicy(max_attempts=2, backoff=0.001, max_delay=0.002)
RESULT = {"0": 0.25, "1": 0.75}


class ScriptedIonQ:
    """Jobs whose statuses follow ``scripts[tag]`` poll by poll; ``cancel_answers[tag]`` is what a cancel
    says (default: canceled, unless the job completed); ``refused`` tags are answered 503 on POST."""

    def __init__(self, scripts, cancel_answers=None, refused=(), lost_polls=0):
        self.scripts, self.cancel_answers, self.refused = scripts, cancel_answers or {}, set(refused)
        self.lost_polls = lost_polls  # the first polls lose their connection
        self.polls = {}
        self.requests = []

    def status(self, job_id):
        script = self.scripts[job_id.removeprefix("job-")]
        return script[min(max(self.polls.get(job_id, 0) - 1, 0), len(script) - 1)]

    def record(self, job_id):
        record = {"id": job_id, "status": self.status(job_id)}
        if record["status"] == "completed":
            record["results"] = {"probabilities": {"url": f"/v0.4/jobs/{job_id}/results/probabilities"}}
        if record["status"] == "failed":
            record["failure"] = {"code": "ScriptedFailure", "error": "it was written so"}
        return record

    def __call__(self, request):
        self.requests.append(request)
        path = request.url.path.removeprefix("/v0.4/")
        if request.method == "POST":
            tag = str(json.loads(request.content)["input"]["tag"])
            if tag in self.refused:
                return httpx.Response(503, json={"message": "busy"})
            return httpx.Response(201, json={"id": f"job-{tag}", "status": "submitted"})
        if request.method == "GET" and path == "jobs" and "ids" not in request.url.params:
            return httpx.Response(200, json={"jobs": [], "next": None})  # the idempotency lookup finds nothing
        if request.method == "GET" and path == "jobs" and self.lost_polls:
            self.lost_polls -= 1
            raise httpx.RemoteProtocolError("peer closed connection", request=request)
        if request.method == "GET" and path == "jobs":
            ids = request.url.params["ids"].split(",")
            for job_id in ids:
                self.polls[job_id] = self.polls.get(job_id, 0) + 1
            return httpx.Response(200, json={"jobs": [self.record(i) for i in ids], "next": None})
        if request.method == "PUT" and path == "jobs/status/cancel":
            ids = json.loads(request.content)["ids"]
            return httpx.Response(200, json={"results": [{"id": i, "status": self.cancel_status(i)} for i in ids]})
        if path.endswith("results/probabilities"):
            return httpx.Response(200, json=RESULT)
        return httpx.Response(200, json=self.record(path.removeprefix("jobs/")))

    def cancel_status(self, job_id):
        status = self.cancel_answers.get(job_id.removeprefix("job-"))
        if status is None:
            status = "completed" if self.status(job_id) == "completed" else "canceled"
        self.scripts[job_id.removeprefix("job-")] = [status]
        return status

    def run(self, count, max_in_flight=8, retry=QUICK):
        units = [JobUnit([i], {"input": {"tag": i}}) for i in range(count)]
        batch = BatchRun(units)

        async def main():
            settings = IonQSettings("k", "https://api.example.test/v0.4", "simulator")
            async with IonQClient(settings, retry=retry, transport=httpx.MockTransport(self)) as client:
                return await run_units(JobRunner(client, FAST), batch, max_in_flight, lambda n: None)

        return asyncio.run(main())


def test_a_failed_job_keeps_completed_results_and_the_report_tells_canceled_from_completed(caplog):
    server = ScriptedIonQ({"0": ["completed"], "1": ["started", "failed"], "2": ["started"], "3": ["started"]},
                          cancel_answers={"3": "completed"})
    with pytest.raises(JobFailedError, match="job job-1 .* failed: ScriptedFailure") as info:
        server.run(4)
    error = info.value
    assert dict(error.completed) == {0: RESULT, 3: RESULT} and error.failed == [1] and error.unfinished == [2]
    assert "unfinished: circuits 2" in str(error)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(w.endswith("canceled 1 job(s) on the server: job-2 (circuits 2)") for w in warnings)
    assert any("had already completed on the server; their results are kept" in w and "job-3" in w and "job-2" not in w
               for w in warnings)


def test_a_request_out_of_retries_fails_only_the_circuits_it_covers():
    server = ScriptedIonQ({"0": ["started", "completed"], "1": ["completed"], "2": ["completed"]}, refused={"1"})
    with pytest.raises(RequestError, match="failed with 503") as info:
        server.run(3)
    assert dict(info.value.completed) == {0: RESULT, 2: RESULT} and info.value.failed == [1]
    assert list(info.value.unfinished) == []


def test_a_job_whose_polls_ran_out_of_retries_is_settled_and_its_results_kept(caplog):
    server = ScriptedIonQ({"0": ["completed"]}, lost_polls=2)
    results = server.run(1, retry=RetryPolicy(connection_attempts=2, backoff=0.001))
    assert results == {0: RESULT} and "had already completed on the server; their results are kept" in caplog.text


def test_every_job_is_polled_through_the_list_never_one_by_one():
    server = ScriptedIonQ({str(i): ["submitted", "started", "completed"] for i in range(6)})
    results = server.run(6)
    assert results == {i: RESULT for i in range(6)}
    gets = [r.url.path for r in server.requests if r.method == "GET"]
    assert all(path == "/v0.4/jobs" or path.endswith("/results/probabilities") for path in gets)


def test_one_poll_request_covers_every_waiting_job():
    server = ScriptedIonQ({"a": ["started", "completed"], "b": ["completed"], "c": ["started", "started", "completed"]})

    async def main():
        settings = IonQSettings("k", "https://api.example.test/v0.4", "simulator")
        async with IonQClient(settings, transport=httpx.MockTransport(server)) as client:
            poller = JobPoller(client, FAST, stall=None)
            units = [JobUnit([i], {}, job_id=f"job-{tag}") for i, tag in enumerate("abc")]
            return await asyncio.gather(*(poller.wait(unit) for unit in units))

    jobs = asyncio.run(main())
    assert [job["status"] for job in jobs] == ["completed"] * 3
    polled = [r.url.params["ids"] for r in server.requests]
    assert polled == ["job-a,job-b,job-c", "job-a,job-c", "job-c"]


def test_a_creation_answer_without_an_id_is_an_ionq_error():
    def no_id(request):
        return httpx.Response(201, json={"status": "submitted"})

    async def main():
        settings = IonQSettings("k", "https://api.example.test/v0.4", "simulator")
        async with IonQClient(settings, transport=httpx.MockTransport(no_id)) as client:
            return await JobRunner(client, FAST).run_unit(JobUnit([0], {"input": {}}))

    with pytest.raises(IonQError, match="answered without a job id"):
        asyncio.run(main())
