"""IonQClient with httpx.MockTransport: retry rules, the idempotency lookup, error mapping, result shapes."""

import asyncio
import json
import logging

import httpx
import pytest

from qvec.backends.ionq import IonQClient, IonQSettings, RetryPolicy
from qvec.backends.ionq.client import DEFAULT_MAX_CONNECTIONS, IDEMPOTENCY_FIELD, job_created_at
from qvec.backends.ionq.ratelimit import RateBudget
from qvec.backends.ionq.settings import RateLimit, Timeouts
from qvec.errors import AuthenticationError, IonQError, RequestError, TransportError

SECRET = "secret-key-77"
QUICK = RetryPolicy(max_attempts=4, backoff=0.001, max_delay=0.002)
# A request budget that never makes a mock server's client wait (the default sends 20 requests a second).
UNTHROTTLED = RateLimit(per_second=1e6, burst=1000)


def run(handler, action, retry=QUICK, timeouts=Timeouts(request=0.05), rate=None):
    """Run ``action(client)`` against a mock server (the default request budget unless ``rate`` is given);
    returns its result and the requests it saw."""
    seen = []

    def record(request):
        seen.append(request)
        return handler(request, len(seen))

    async def main():
        settings = IonQSettings(SECRET, "https://api.example.test/v0.4", "simulator")
        async with IonQClient(settings, retry=retry, timeouts=timeouts, transport=httpx.MockTransport(record),
                              seed=0, rate=None if rate is None else RateBudget(rate)) as client:
            return await action(client)

    return asyncio.run(main()), seen


def test_requests_carry_the_key_the_content_type_and_a_user_agent():
    _, seen = run(lambda request, n: httpx.Response(200, json={"id": "j", "status": "completed"}),
                  lambda client: client.get_job("j"))
    headers = seen[0].headers
    assert headers["authorization"] == f"apiKey {SECRET}" and headers["content-type"] == "application/json"
    assert headers["user-agent"].startswith("qvec/") and str(seen[0].url) == "https://api.example.test/v0.4/jobs/j"


def test_retryable_statuses_are_retried_and_others_are_not():
    def flaky(request, n):
        return httpx.Response(503 if n == 1 else 200, json={"id": "j"})

    job, seen = run(flaky, lambda client: client.get_job("j"))
    assert job == {"id": "j"} and len(seen) == 2
    with pytest.raises(RequestError, match="failed with 500") as info:
        run(lambda request, n: httpx.Response(500, json={"message": "boom"}), lambda client: client.get_job("j"))
    assert info.value.status_code == 500


def test_429_honours_retry_after_and_is_not_looked_up():
    def limited(request, n):
        if n == 1:
            return httpx.Response(429, headers={"Retry-After": "0"}, json={"message": "slow down"})
        return httpx.Response(201, json={"id": "new"})

    job, seen = run(limited, lambda client: client.create_job({"input": {}}, "k1", 0.0))
    assert job["id"] == "new" and [r.method for r in seen] == ["POST", "POST"]


def test_an_ambiguous_post_looks_the_key_up_and_never_sends_twice():
    def lost(request, n):
        if request.method == "POST":
            raise httpx.ReadTimeout("answer lost", request=request)
        listed = {"id": "created", "status": "submitted", "metadata": {IDEMPOTENCY_FIELD: "k1"}, "request": 10}
        return httpx.Response(200, json={"jobs": [listed], "next": None})

    job, seen = run(lost, lambda client: client.create_job({"input": {}, "metadata": {"mine": "x"}}, "k1", 10.0))
    assert job["id"] == "created" and [r.method for r in seen] == ["POST", "GET"]
    assert json.loads(seen[0].content)["metadata"] == {"mine": "x", IDEMPOTENCY_FIELD: "k1"}


def test_a_key_not_found_is_submitted_again_with_the_same_key():
    def once_lost(request, n):
        if request.method == "GET":
            return httpx.Response(200, json={"jobs": [], "next": None})
        return httpx.Response(502) if n == 1 else httpx.Response(201, json={"id": "second"})

    job, seen = run(once_lost, lambda client: client.create_job({"input": {}}, "k9", 0.0))
    posts = [json.loads(r.content)["metadata"][IDEMPOTENCY_FIELD] for r in seen if r.method == "POST"]
    assert job["id"] == "second" and posts == ["k9", "k9"] and [r.method for r in seen] == ["POST", "GET", "POST"]


def test_a_post_that_timed_out_is_looked_up_twice_a_request_timeout_apart_before_it_is_sent_again():
    def timed_out_once(request, n):
        if request.method == "GET":
            return httpx.Response(200, json={"jobs": [], "next": None})
        if n == 1:
            raise httpx.ReadTimeout("no answer in time", request=request)
        return httpx.Response(201, json={"id": "second"})

    job, seen = run(timed_out_once, lambda client: client.create_job({"input": {}}, "k8", 0.0))
    assert job["id"] == "second" and [r.method for r in seen] == ["POST", "GET", "GET", "POST"]


def test_a_job_the_server_creates_after_the_first_lookup_is_found_by_the_second():
    """A server still reading a POST creates its job late: the second look finds it, nothing is sent twice."""
    def late(request, n):
        if request.method == "POST":
            raise httpx.ReadTimeout("no answer in time", request=request)
        jobs = [] if n == 2 else [{"id": "late", "request": 5000, "metadata": {IDEMPOTENCY_FIELD: "k7"}}]
        return httpx.Response(200, json={"jobs": jobs, "next": None})

    job, seen = run(late, lambda client: client.create_job({"input": {}}, "k7", 5000.0))
    assert job["id"] == "late" and [r.method for r in seen] == ["POST", "GET", "GET"]


def test_a_large_body_gets_more_time_than_the_request_timeout():
    sent = []

    def record(request, n):
        sent.append(request.extensions["timeout"]["read"])
        return httpx.Response(201, json={"id": "j"})

    run(record, lambda client: client.create_job({"input": {"pad": "x" * 2_000_000}}, "k", 0.0))
    assert sent[0] >= 0.05 + 2.0 * 30.0


def test_the_lookup_pages_back_until_jobs_older_than_the_submission():
    def pages(request, n):
        if request.url.params.get("next") == "c1":
            return httpx.Response(200, json={"jobs": [{"id": "old", "request": 1, "metadata": {}}], "next": "c2"})
        return httpx.Response(200, json={"jobs": [{"id": "other", "request": 5000, "metadata": {}}], "next": "c1"})

    found, seen = run(pages, lambda client: client.find_job("k", since=5000.0))
    assert found is None and len(seen) == 2


def test_refused_connections_to_a_host_that_never_answered_fail_fast_naming_it():
    def down(request, n):
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    with pytest.raises(TransportError, match="could not reach api.example.test") as info:
        run(down, lambda client: client.get_job("j"), retry=RetryPolicy(unreached_attempts=3, backoff=0.001))
    message = str(info.value)
    assert "GET /v0.4/jobs/j got no answer after 3 attempt(s) over" in message and "Connection refused" in message
    assert info.value.maybe_sent is False


def test_a_refused_submission_leaves_no_job_behind(caplog):
    def down(request, n):
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(TransportError) as info:
        run(down, lambda client: client.create_job({"input": {}}, "k1", 0.0))
    assert info.value.maybe_sent is False and "POST /v0.4/jobs" in str(info.value)


def test_connection_errors_after_the_host_answered_get_a_more_patient_budget():
    def flaky_network(request, n):
        if 2 <= n <= 11:  # ten answers lost in a row, after a first one came through
            raise httpx.RemoteProtocolError("peer closed connection", request=request)
        return httpx.Response(200, json={"id": "j", "status": "completed"})

    async def twice(client):
        await client.get_job("j")
        return await client.get_job("j")

    job, seen = run(flaky_network, twice, retry=RetryPolicy(max_attempts=4, connection_attempts=20, backoff=0.001))
    assert job["id"] == "j" and len(seen) == 12


def test_a_server_that_never_answers_is_reported_as_the_submission():
    def silent(request, n):
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(TransportError) as info:
        run(silent, lambda client: client.create_job({"input": {}}, "k1", 0.0))
    message = str(info.value)
    assert message.startswith("POST /v0.4/jobs") and "idempotency key failed too" in message
    assert "could not reach api.example.test" in message and info.value.maybe_sent is True


def test_retries_are_logged_with_the_host_and_warned_about_when_they_go_on(caplog):
    caplog.set_level("INFO", logger="qvec.backends.ionq")

    def overloaded(request, n):
        return httpx.Response(503 if n <= 3 else 200, json={"id": "j"})

    run(overloaded, lambda client: client.get_job("j"))
    retries = [r for r in caplog.records if r.getMessage().startswith("retrying GET /v0.4/jobs/j on api.example.test")]
    assert [r.levelname for r in retries] == ["INFO", "WARNING", "WARNING"]


def test_a_404_on_job_creation_says_the_base_url_lacks_the_version():
    async def create(client):
        return await client.create_job({"input": {}}, "k", 0.0)

    def not_found(request, n):
        return httpx.Response(404, json={"message": "Not Found"})

    seen = []
    settings = IonQSettings(SECRET, "http://127.0.0.1:8000", "simulator")

    async def main():
        transport = httpx.MockTransport(lambda request: seen.append(request) or not_found(request, len(seen)))
        async with IonQClient(settings, retry=QUICK, transport=transport) as client:
            return await create(client)

    with pytest.raises(RequestError, match=r"probably lacks the API version: try http://127.0.0.1:8000/v0.4"):
        asyncio.run(main())


def test_a_local_protocol_error_is_not_retried_and_never_carries_the_key():
    def illegal(request, n):
        raise httpx.LocalProtocolError(f"Illegal header value b'apiKey {SECRET}\\n'")

    with pytest.raises(IonQError) as info:
        run(illegal, lambda client: client.get_job("j"))
    chained = [info.value]
    while chained[-1].__cause__ or chained[-1].__context__:
        chained.append(chained[-1].__cause__ or chained[-1].__context__)
    assert all(SECRET not in str(error) and SECRET not in repr(error.args) for error in chained)


def test_httpcore_debug_logs_which_print_headers_are_kept_quiet(caplog):
    caplog.set_level(logging.DEBUG)
    run(lambda request, n: httpx.Response(200, json={}), lambda client: client.get_job("j"))
    assert not logging.getLogger("httpcore").isEnabledFor(logging.DEBUG)


def test_429_is_retried_after_at_least_the_servers_delay_and_shrinks_the_budget(caplog):
    caplog.set_level("INFO", logger="qvec.backends.ionq")

    def limited(request, n):
        if n <= 2:
            return httpx.Response(429, headers={"Retry-After": "0.02"}, json={"message": "slow down"})
        return httpx.Response(200, json={"id": "j"})

    async def action(client):
        await client.get_job("j")
        return client.rate.rate

    rate, seen = run(limited, action)
    delays = [r.args[-1] for r in caplog.records if "after HTTP 429" in r.getMessage()]
    assert len(seen) == 3 and len(delays) == 2 and all(d >= 0.02 for d in delays)
    assert rate < RateLimit().per_second


def test_many_jobs_are_polled_with_one_request():
    def listing(request, n):
        if request.url.path == "/v0.4/jobs":
            ids = request.url.params["ids"].split(",")
            return httpx.Response(200, json={"jobs": [{"id": i, "status": "started"} for i in ids if i != "c"]})
        return httpx.Response(200, json={"id": "c", "status": "completed"})

    jobs, seen = run(listing, lambda client: client.get_jobs(["a", "b", "c"]))
    assert {i: j["status"] for i, j in jobs.items()} == {"a": "started", "b": "started", "c": "completed"}
    assert [str(r.url) for r in seen] == ["https://api.example.test/v0.4/jobs?ids=a%2Cb%2Cc&limit=3",
                                          "https://api.example.test/v0.4/jobs/c"]


def test_bulk_cancel_reads_each_jobs_status():
    def cancel(request, n):
        assert request.method == "PUT" and request.url.path == "/v0.4/jobs/status/cancel"
        ids = json.loads(request.content)["ids"]
        return httpx.Response(200, json={"results": [{"id": i, "status": "completed" if i == "done" else "canceled"}
                                                     for i in ids]})

    statuses, seen = run(cancel, lambda client: client.cancel_jobs(["a", "done"]))
    assert statuses == {"a": "canceled", "done": "completed"} and len(seen) == 1


def test_a_rejected_key_is_never_echoed():
    def unauthorized(request, n):
        return httpx.Response(401, json={"message": f"bad key {SECRET}"})

    with pytest.raises(AuthenticationError) as info:
        run(unauthorized, lambda client: client.get_job("j"))
    assert SECRET not in str(info.value) and "rejected the API key" in str(info.value)
    with pytest.raises(RequestError) as echoed:
        run(lambda request, n: httpx.Response(400, json={"error": {"message": f"no {SECRET}"}}),
            lambda client: client.get_job("j"))
    assert SECRET not in str(echoed.value) and "***" in str(echoed.value)


def test_results_are_read_in_the_url_form_and_the_artifact_form():
    def results(request, n):
        return httpx.Response(200, json={"0": 0.5, "3": 0.5, "path": request.url.path})

    url_job = {"id": "a", "results": {"probabilities": {"url": "/v0.4/jobs/a/results/probabilities"}}}
    answer, _ = run(results, lambda client: client.probabilities(url_job))
    assert answer["path"] == "/v0.4/jobs/a/results/probabilities"
    artifact_job = {"id": "b", "results": {"ionq.result.probabilities.json.v2": {"id": "art", "format": "json"}}}
    answer, _ = run(results, lambda client: client.probabilities(artifact_job))
    assert answer["path"] == "/v0.4/jobs/b/artifacts/art"


def test_a_result_url_on_another_host_is_refused():
    job = {"id": "a", "results": {"probabilities": {"url": "https://elsewhere.test/v0.4/jobs/a"}}}
    with pytest.raises(IonQError, match="refusing to send the key"):
        run(lambda request, n: httpx.Response(200, json={}), lambda client: client.probabilities(job))


@pytest.mark.timeout(60)
def test_the_lookup_is_bounded_when_no_job_says_when_it_was_created():
    def endless(request, n):
        return httpx.Response(200, json={"jobs": [{"id": f"j{n}", "metadata": {}}], "next": f"c{n}"})

    with pytest.raises(IonQError, match="not submitting it again") as info:  # 200 pages at 20/s would take 10 s
        run(endless, lambda client: client.find_job("k", since=5000.0), rate=UNTHROTTLED)
    assert "200 page(s)" in str(info.value)


@pytest.mark.parametrize("stamp", ["1", "1000", "1970-01-01T00:00:01Z", 1000, "1970-01-01T00:16:40+00:00"])
def test_the_lookup_reads_numbers_numeric_strings_and_iso_times(stamp):
    def pages(request, n):
        return httpx.Response(200, json={"jobs": [{"id": "old", "request": stamp, "metadata": {}}], "next": "more"})

    found, seen = run(pages, lambda client: client.find_job("k", since=5000.0))
    assert found is None and len(seen) == 1


def test_the_lookup_skips_child_jobs():
    def pages(request, n):
        if request.url.params.get("next") == "c1":
            mine = {"id": "mine", "request": 5000, "parent_job_id": None, "metadata": {IDEMPOTENCY_FIELD: "k"}}
            return httpx.Response(200, json={"jobs": [mine], "next": None})
        child = {"id": "child", "request": "not a time", "parent_job_id": "p", "metadata": {IDEMPOTENCY_FIELD: "k"}}
        return httpx.Response(200, json={"jobs": [child], "next": "c1"})

    found, seen = run(pages, lambda client: client.find_job("k", since=5000.0))
    assert found["id"] == "mine" and len(seen) == 2


@pytest.mark.parametrize("job, expected", [
    ({"request": 1700000000}, 1700000000.0),
    ({"request": "1700000000"}, 1700000000.0),
    ({"request": 1700000000123}, 1700000000.123),
    ({"submitted_at": "2023-11-14T22:13:20Z"}, 1700000000.0),
    ({"created_at": "2023-11-14T22:13:20.500+00:00"}, 1700000000.5),
    ({"request": "yesterday", "created_at": "2023-11-14T22:13:20Z"}, 1700000000.0),
    ({"request": None}, None), ({"request": "2023-11-14T22:13:20"}, None), ({}, None), ({"request": True}, None),
])
def test_job_times_are_parsed_from_the_documented_fields(job, expected):
    assert job_created_at(job) == (pytest.approx(expected) if expected is not None else None)


def test_a_success_answer_cut_short_is_asked_for_again_and_a_post_is_looked_up_first():
    def truncated_once(request, n):
        if n == 1:
            return httpx.Response(200 if request.method == "GET" else 201, content=b'{"id": "j", "sta')
        if request.method == "GET" and request.url.path.endswith("/jobs") and "ids" not in request.url.params:
            return httpx.Response(200, json={"jobs": [{"id": "found", "metadata": {IDEMPOTENCY_FIELD: "k1"}}],
                                             "next": None})
        return httpx.Response(200, json={"id": "j", "status": "completed"})

    job, seen = run(truncated_once, lambda client: client.get_job("j"))
    assert job == {"id": "j", "status": "completed"} and len(seen) == 2
    job, seen = run(truncated_once, lambda client: client.create_job({"input": {}}, "k1", 0.0))
    assert job["id"] == "found" and [r.method for r in seen] == ["POST", "GET"]  # adopted, never sent twice


def test_a_success_answer_that_is_never_json_fails_after_the_retries():
    with pytest.raises(RequestError, match="answered 200 with a body that is not JSON") as info:
        run(lambda request, n: httpx.Response(200, content=b"<html>"), lambda client: client.get_job("j"))
    assert info.value.status_code == 200


def test_requests_in_flight_are_bounded_so_the_connection_pool_never_queues():
    """httpcore's pool scans every queued request against every connection on each request: many jobs at once
    made ``concurrent`` slower than ``threads``. The client holds requests beyond its connections itself."""
    in_flight, peak = 0, 0

    class Counting(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request):
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.01)
            in_flight -= 1
            return httpx.Response(200, json={"id": "j", "status": "completed"})

    async def main():
        settings = IonQSettings(SECRET, "https://api.example.test/v0.4", "simulator")
        budget = RateBudget(UNTHROTTLED)
        async with IonQClient(settings, transport=Counting(), rate=budget) as client:
            return await asyncio.gather(*(client.get_job(f"j{i}") for i in range(40)))

    assert len(asyncio.run(main())) == 40 and peak == DEFAULT_MAX_CONNECTIONS
