"""The async IonQ API client: builds requests, retries what is safe to retry, maps errors.

Shaped like httpx: this class does no I/O of its own beyond handing requests to an
``httpx.AsyncClient`` (pooled connections) whose transport tests may replace. A job-creating
POST is never blindly repeated: its body carries an idempotency key in ``metadata``, and after an
ambiguous failure the key is looked up with ``GET /jobs`` before anything is sent again. Every
request first takes a token from a ``RateBudget``, which a batch shares among its clients.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Awaitable, Callable, Iterable, Mapping

import httpx

import qvec
from qvec.errors import AuthenticationError, IonQError, RequestError, TransportError

from .ratelimit import RateBudget
from .settings import IonQSettings, RetryPolicy, Timeouts

__all__ = ["IonQClient", "IDEMPOTENCY_FIELD", "RETRYABLE_STATUS", "job_created_at"]

logger = logging.getLogger("qvec.backends.ionq")

IDEMPOTENCY_FIELD = "qvec_idempotency_key"
RETRYABLE_STATUS = frozenset({429, 502, 503, 504, *range(520, 530)})
# Failures that prove the request never reached the server: repeating it cannot duplicate a job.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures of our own making: repeating the request cannot help.
_LOCAL = (httpx.LocalProtocolError, httpx.UnsupportedProtocol)
# A lookup by idempotency key scans back to this many seconds before the job's first submission
# (clock skew), and gives up after this many pages or seconds rather than page through all history.
_LOOKUP_MARGIN_S = 300.0
_LOOKUP_MAX_PAGES = 200
_LOOKUP_MAX_S = 600.0
# A body takes the server time to read and check before it answers: each MB adds this many seconds
# to the request timeout, so that a POST of thousands of circuits is not cut off (and looked up) while
# the server is still reading it.
_SECONDS_PER_BODY_MB = 30.0
_LIST_PAGE = 100
# Jobs polled (or canceled) per request: keeps URLs and bodies small.
_IDS_PER_REQUEST = 50
# A request that has failed this often is worth a warning, not only an info line.
_WARN_FROM_ATTEMPT = 3
# Requests one client sends at once (and connections it keeps). Beyond a handful, httpcore's pool
# costs more than it brings: it scans every connection, and every request queued for one, on each
# request (quadratic bookkeeping), and requests are few at a time anyway (one poll covers every job).
DEFAULT_MAX_CONNECTIONS = 10
# Job record fields that may say when a job was created, newest API first.
_TIME_FIELDS = ("request", "submitted_at", "created_at", "created")

# Called with whether the request may still be running on the server (it got no answer in time).
Recover = Callable[[bool], Awaitable[Any]]
_RETRY = object()  # what ``_decode`` answers for an answer worth asking again for


def _quiet_transport_logs() -> None:
    """httpcore's debug log prints request headers, the key among them: keep it at INFO unless set."""
    for name in ("httpcore", "hpack"):
        if logging.getLogger(name).level == logging.NOTSET:
            logging.getLogger(name).setLevel(logging.INFO)


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header (a number or an HTTP date); ``None`` if absent or unreadable."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _server_message(response: httpx.Response) -> str:
    """The message of an error answer in any of the shapes the API uses."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("message") or error.get("type") or error)
        return str(body.get("message") or error or body)
    return str(body)[:200]


def _timestamp(value: Any) -> float | None:
    """Unix seconds from a number or numeric string (seconds or milliseconds) or an ISO-8601 string."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        try:
            parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed.timestamp() if parsed.tzinfo else None
    if number != number or number <= 0:
        return None
    return number / 1000 if number > 1e11 else number  # 1e11 s is the year 5138: such a number is ms


def job_created_at(job: Mapping[str, Any]) -> float | None:
    """When a job was created (Unix seconds) from the first readable documented time field, else ``None``."""
    for name in _TIME_FIELDS:
        when = _timestamp(job.get(name))
        if when is not None:
            return when
    return None


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    return (items[i:i + size] for i in range(0, len(items), size))


class IonQClient:
    """An async client of the IonQ API for one event loop; use it as ``async with``.

    ``rate`` is the request budget; a batch run by several clients (threads) gives them one.
    """

    def __init__(self, settings: IonQSettings, *, retry: RetryPolicy = RetryPolicy(), timeouts: Timeouts = Timeouts(),
                 transport: httpx.AsyncBaseTransport | None = None, max_connections: int = DEFAULT_MAX_CONNECTIONS,
                 seed: int | None = None, rate: RateBudget | None = None) -> None:
        _quiet_transport_logs()
        self.settings, self.retry = settings, retry
        self.rate = rate if rate is not None else RateBudget()
        self._rng = random.Random(seed)
        self._request_timeout = timeouts.request
        self._reached = False  # has the host answered once?
        self._refusals = 0  # connections refused in a row while it never has
        self._sending = asyncio.Semaphore(max_connections)  # so that httpcore's pool never queues requests
        self._http = httpx.AsyncClient(
            base_url=settings.base_url + "/",
            headers={"Authorization": f"apiKey {settings.api_key}", "Content-Type": "application/json",
                     "User-Agent": f"qvec/{qvec.__version__}"},
            timeout=timeouts.request, transport=transport,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        )

    async def __aenter__(self) -> IonQClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._http.aclose()

    def __repr__(self) -> str:
        return f"IonQClient({self.settings!r}, retry={self.retry!r})"

    @property
    def host(self) -> str:
        return httpx.URL(self.settings.base_url).host

    # -- requests ---------------------------------------------------------------------------------
    def _url(self, path: str) -> httpx.URL | str:
        """A relative API path, or a server-given absolute path (``/v0.4/...``) on the same origin."""
        if not path.startswith(("/", "http://", "https://")):
            return path
        base = httpx.URL(self.settings.base_url)
        url = base.join(path)
        if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port):
            raise IonQError(f"the API pointed at another host ({url.host}); refusing to send the key there")
        return url

    async def request(self, method: str, path: str, *, body: Any = None, params: Mapping[str, Any] | None = None,
                      recover: Recover | None = None) -> Any:
        """Send with retries and return the decoded JSON answer.

        ``recover`` runs before any repeat that follows an ambiguous failure (the request may have
        been processed); if it returns something, that is the answer and nothing is sent again. It is
        told whether the request may still be running (it timed out), not only done.
        """
        content = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        timeout = self._request_timeout + len(content or b"") / 1e6 * _SECONDS_PER_BODY_MB
        request = self._http.build_request(method, self._url(path), content=content, params=params, timeout=timeout)
        started, failures, maybe_sent = time.monotonic(), {"status": 0, "timeout": 0, "connection": 0}, False
        while True:
            outcome = await self._send(request)
            if isinstance(outcome, httpx.TransportError):
                ambiguous = not isinstance(outcome, _NOT_SENT)
                maybe_sent = maybe_sent or ambiguous
                attempt = self._count(outcome, failures)
                if self._gives_up(outcome, attempt):
                    error = self._no_answer(request, outcome, sum(failures.values()), started, maybe_sent)
                    raise error from (None if self.settings.api_key in repr(outcome) else outcome)
                reason, retry_after = self._describe(outcome), None
                running = isinstance(outcome, httpx.TimeoutException)
            else:
                self._reached = True
                answer = self._decode(outcome, method, last=failures["status"] + 1 >= self.retry.max_attempts)
                if answer is not _RETRY:
                    return answer
                status = outcome.status_code
                failures["status"] += 1
                if status == 429:
                    self.rate.throttled()
                reason = f"HTTP {status}" + (" with a body that is not JSON" if status < 400 else "")
                attempt, retry_after = failures["status"], _retry_after(outcome)
                ambiguous, running = status != 429, False
            await self._pause(request, attempt, reason, retry_after)
            if ambiguous and recover is not None:
                recovered = await self._recover(request, recover, running, started, sum(failures.values()))
                if recovered is not None:
                    return recovered

    async def _send(self, request: httpx.Request) -> httpx.Response | httpx.TransportError:
        """One attempt, after waiting for the budget: the answer, or the transport error that stopped it.

        An error of our own making is raised at once, outside the ``except`` so that it chains
        nothing: httpx's message may quote the header that held the key.
        """
        await self.rate.acquire()
        try:
            async with self._sending:
                return await self._http.send(request)
        except _LOCAL as exc:
            kind = type(exc).__name__
        except httpx.TransportError as exc:
            return exc
        raise IonQError(f"{request.method} {request.url.path}: the request could not be sent ({kind}); "
                        "check the base URL and the API key")

    def _count(self, exc: httpx.TransportError, failures: dict[str, int]) -> int:
        """Count an answerless attempt under its budget; return that budget's count so far."""
        refused = isinstance(exc, httpx.ConnectError)
        self._refusals = self._refusals + 1 if refused and not self._reached else 0
        kind = "timeout" if isinstance(exc, httpx.TimeoutException) else "connection"
        failures[kind] += 1
        return failures[kind]

    def _gives_up(self, exc: httpx.TransportError, failures: int) -> bool:
        """Whether to stop after ``failures`` answerless attempts of ``exc``'s kind.

        Refused connections to a host that never answered stop after ``unreached_attempts`` (a wrong
        URL, a server that is down); timeouts, each costing a request timeout, get ``max_attempts``;
        other answerless attempts (refused or dropped once the host has answered) are safe to repeat
        and get the patient ``connection_attempts``.
        """
        if isinstance(exc, httpx.ConnectError) and not self._reached:
            return self._refusals >= self.retry.unreached_attempts
        if isinstance(exc, httpx.TimeoutException):
            return failures >= self.retry.max_attempts
        return failures >= self.retry.connection_attempts

    def _describe(self, exc: httpx.TransportError) -> str:
        detail = self.settings.redact(str(exc))
        return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__

    def _no_answer(self, request: httpx.Request, exc: httpx.TransportError, attempts: int, started: float,
                   maybe_sent: bool) -> TransportError:
        """The error for a request that never got an answer: the host, what was tried, for how long."""
        tried = (f"{request.method} {request.url.path} got no answer after {attempts} attempt(s) over "
                 f"{time.monotonic() - started:.1f} s (last: {self._describe(exc)})")
        if not self._reached:
            return TransportError(f"could not reach {self.host} ({self.settings.base_url}): {tried}; it has not "
                                  "answered any request: check the base URL (IONQ_BASE_URL) and the network",
                                  maybe_sent=maybe_sent)
        return TransportError(f"{self.host}: {tried}", maybe_sent=maybe_sent)

    async def _pause(self, request: httpx.Request, attempt: int, reason: str, retry_after: float | None) -> None:
        delay = self.retry.delay(attempt, retry_after, self._rng)
        level = logging.WARNING if attempt + 1 >= _WARN_FROM_ATTEMPT else logging.INFO
        logger.log(level, "retrying %s %s on %s after %s (attempt %d) in %.2f s", request.method, request.url.path,
                   self.host, reason, attempt + 1, delay)
        await asyncio.sleep(delay)

    async def _recover(self, request: httpx.Request, recover: Recover, running: bool, started: float,
                       attempts: int) -> Any:
        """Run ``recover``; if the lookup itself gets no answer, the error is about the submission."""
        try:
            return await recover(running)
        except TransportError as exc:
            raise TransportError(f"{request.method} {request.url.path} on {self.host}: no usable answer after "
                                 f"{attempts} attempt(s) over {time.monotonic() - started:.1f} s, and looking the "
                                 f"job up by its idempotency key failed too ({exc})", maybe_sent=True) from None

    def _decode(self, response: httpx.Response, method: str, *, last: bool) -> Any:
        """The JSON of a success answer; ``_RETRY`` unless ``last`` for an answer worth asking again for (a
        retryable status, or a success whose body is not JSON: cut short on its way); else the mapped exception."""
        path = response.request.url.path
        status = response.status_code
        if status < 400:
            try:
                return response.json() if response.content else {}
            except ValueError:
                if not last:
                    return _RETRY
                raise RequestError(f"{method} {path} answered {status} with a body that is not JSON", method=method,
                                   path=path, status_code=status) from None
        if status in RETRYABLE_STATUS and not last:
            return _RETRY
        if status in (401, 403):
            raise AuthenticationError(f"the IonQ API rejected the API key ({status} on {method} {path}); "
                                      "check IONQ_API_KEY or the api_key argument")
        message = self.settings.redact(_server_message(response)) + self._hint(method, path, status)
        raise RequestError(f"{method} {path} failed with {status}: {message}", method=method, path=path,
                           status_code=status)

    def _hint(self, method: str, path: str, status: int) -> str:
        """What a 404 on job creation most likely means: a base URL without the API version."""
        if status != 404 or method != "POST" or not path.rstrip("/").endswith("/jobs"):
            return ""
        base = self.settings.base_url
        if "/v0." not in httpx.URL(base).path:
            return f" (the base URL {base} probably lacks the API version: try {base}/v0.4)"
        return f" (is the base URL {base} right? IonQ's API lives under /v0.4)"

    # -- jobs --------------------------------------------------------------------------------------
    async def create_job(self, body: dict[str, Any], key: str, since: float) -> dict[str, Any]:
        """POST /jobs with ``key`` in the metadata; ``since`` is when this job was first submitted."""
        metadata = {**body.get("metadata", {}), IDEMPOTENCY_FIELD: key}
        return await self.request("POST", "jobs", body={**body, "metadata": metadata},
                                  recover=lambda running: self._find_created_job(key, since, running))

    async def _find_created_job(self, key: str, since: float, running: bool) -> dict[str, Any] | None:
        """``find_job`` after a POST without a usable answer; if the POST may still be running (it timed out)
        and the job is not there yet, look once more after a request timeout: a server still reading the POST
        creates the job late."""
        job = await self.find_job(key, since)
        if job is None and running:
            await asyncio.sleep(self._request_timeout)
            job = await self.find_job(key, since)
        return job

    async def find_job(self, key: str, since: float) -> dict[str, Any] | None:
        """The top-level job carrying idempotency ``key``, scanning jobs newest first back to ``since``.

        ``None`` once jobs older than ``since`` (less a margin for clock skew) are reached, or the
        list ends. The scan is bounded in pages and seconds: past that, whether the job exists is
        unknown, which is an error (submitting again could create a duplicate).
        """
        started, params = time.monotonic(), {"limit": _LIST_PAGE}
        for page_number in range(1, _LOOKUP_MAX_PAGES + 1):
            page = await self.request("GET", "jobs", params=params)
            jobs = page.get("jobs") if isinstance(page, dict) else None
            if not isinstance(jobs, list):
                raise IonQError(f"GET /jobs on {self.host} answered without a list of jobs")
            for job in jobs:
                if not isinstance(job, dict) or job.get("parent_job_id"):
                    continue  # child jobs of multi-circuit jobs never carry the key
                if (job.get("metadata") or {}).get(IDEMPOTENCY_FIELD) == key:
                    logger.info("found job %s by its idempotency key; not submitting it again", job.get("id"))
                    return job
                created = job_created_at(job)
                if created is not None and created < since - _LOOKUP_MARGIN_S:
                    return None
            if not page.get("next"):
                return None
            if time.monotonic() - started > _LOOKUP_MAX_S:
                break
            params = {"limit": _LIST_PAGE, "next": page["next"]}
        raise IonQError(f"could not tell whether the job with idempotency key {key} was created: {page_number} "
                        f"page(s) of jobs scanned in {time.monotonic() - started:.0f} s without reaching jobs older "
                        "than its submission; not submitting it again, to avoid a duplicate job")

    async def get_job(self, job_id: str) -> dict[str, Any]:
        return await self.request("GET", f"jobs/{job_id}")

    async def get_jobs(self, job_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Several jobs by id with ``GET /jobs?ids=...`` (one request per 50); any the list leaves out
        is fetched on its own."""
        wanted, found = list(dict.fromkeys(job_ids)), {}
        for chunk in _chunks(wanted, _IDS_PER_REQUEST):
            page = await self.request("GET", "jobs", params={"ids": ",".join(chunk), "limit": len(chunk)})
            for job in (page.get("jobs") or []) if isinstance(page, dict) else []:
                if isinstance(job, dict) and job.get("id") in chunk:
                    found[job["id"]] = job
        for job_id in wanted:
            if job_id not in found:
                found[job_id] = await self.get_job(job_id)
        return found

    async def list_jobs(self, **filters: Any) -> dict[str, Any]:
        return await self.request("GET", "jobs", params=filters)

    async def cancel_job(self, job_id: str) -> dict[str, Any]:
        return await self.request("PUT", f"jobs/{job_id}/status/cancel")

    async def cancel_jobs(self, job_ids: Iterable[str]) -> dict[str, str]:
        """Cancel jobs (bulk ``PUT /jobs/status/cancel``) and return each one's status after the call.

        A job that had already completed stays completed: its status says so, and its results are
        still there to fetch. Jobs the bulk answer does not cover are canceled one by one; one that
        cannot be canceled is logged and left out of the answer.
        """
        wanted, statuses = list(dict.fromkeys(job_ids)), {}
        for chunk in _chunks(wanted, _IDS_PER_REQUEST):
            try:
                answer = await self.request("PUT", "jobs/status/cancel", body={"ids": chunk})
            except RequestError as exc:
                logger.info("bulk cancel failed (%s); canceling one by one", exc)
                continue
            records = (answer.get("results") or answer.get("jobs") or []) if isinstance(answer, dict) else []
            statuses.update({r["id"]: str(r["status"]) for r in records
                             if isinstance(r, dict) and r.get("id") in chunk and r.get("status")})
        for job_id in (i for i in wanted if i not in statuses):
            try:
                answer = await self.cancel_job(job_id)
                status = answer.get("status") if isinstance(answer, dict) else None
                statuses[job_id] = str(status or (await self.get_job(job_id)).get("status"))
            except IonQError as exc:
                logger.warning("could not cancel job %s: %s", job_id, exc)
        return statuses

    async def backend_qubits(self, target: str) -> int | None:
        """Qubits of ``target`` as ``GET /backends/{target}`` reports them."""
        info = await self.request("GET", f"backends/{target}")
        qubits = info.get("qubits") if isinstance(info, dict) else None
        return int(qubits) if isinstance(qubits, int) else None

    async def probabilities(self, job: Mapping[str, Any]) -> dict[str, Any]:
        """The probabilities of a completed job, from the URL form or the artifact form of ``results``."""
        results = job.get("results") or {}
        probabilities = results.get("probabilities")
        if isinstance(probabilities, dict) and probabilities.get("url"):
            return await self.request("GET", probabilities["url"])
        for name, artifact in results.items():
            if name.startswith("ionq.result.probabilities") and isinstance(artifact, dict) and artifact.get("id"):
                return await self.request("GET", f"jobs/{job['id']}/artifacts/{artifact['id']}")
        raise IonQError(f"job {job.get('id')} completed without a probabilities result: {sorted(results)}")
