"""IonQClient with httpx.MockTransport: retry rules, the idempotency lookup, error mapping, result shapes."""

import asyncio
import json

import httpx
import pytest

from qvec.backends.ionq import IonQClient, IonQSettings, RetryPolicy
from qvec.backends.ionq.client import IDEMPOTENCY_FIELD
from qvec.errors import AuthenticationError, IonQError, RequestError, TransportError

SECRET = "secret-key-77"
QUICK = RetryPolicy(max_attempts=4, backoff=0.001, max_delay=0.002)


def run(handler, action, retry=QUICK):
    """Run ``action(client)`` against a mock server; returns its result and the requests it saw."""
    seen = []

    def record(request):
        seen.append(request)
        return handler(request, len(seen))

    async def main():
        settings = IonQSettings(SECRET, "https://api.example.test/v0.4", "simulator")
        async with IonQClient(settings, retry=retry, transport=httpx.MockTransport(record), seed=0) as client:
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


def test_the_lookup_pages_back_until_jobs_older_than_the_submission():
    def pages(request, n):
        if request.url.params.get("next") == "c1":
            return httpx.Response(200, json={"jobs": [{"id": "old", "request": 1, "metadata": {}}], "next": "c2"})
        return httpx.Response(200, json={"jobs": [{"id": "other", "request": 5000, "metadata": {}}], "next": "c1"})

    found, seen = run(pages, lambda client: client.find_job("k", since=5000.0))
    assert found is None and len(seen) == 2


def test_connection_errors_exhaust_into_a_transport_error():
    def down(request, n):
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(TransportError, match="no answer after 4 attempt"):
        run(down, lambda client: client.get_job("j"))


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
