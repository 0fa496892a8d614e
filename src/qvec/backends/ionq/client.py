"""The async IonQ API client: builds requests, retries what is safe to retry, maps errors.

Shaped like httpx: this class does no I/O of its own beyond handing requests to an
``httpx.AsyncClient`` (pooled connections) whose transport tests may replace. A job-creating
POST is never blindly repeated: its body carries an idempotency key in ``metadata``, and after an
ambiguous failure the key is looked up with ``GET /jobs`` before anything is sent again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from email.utils import parsedate_to_datetime
from typing import Any, Awaitable, Callable, Mapping

import httpx

import qvec
from qvec.errors import AuthenticationError, IonQError, RequestError, TransportError

from .settings import IonQSettings, RetryPolicy, Timeouts

__all__ = ["IonQClient", "IDEMPOTENCY_FIELD", "RETRYABLE_STATUS"]

logger = logging.getLogger("qvec.backends.ionq")

IDEMPOTENCY_FIELD = "qvec_idempotency_key"
RETRYABLE_STATUS = frozenset({429, 502, 503, 504, *range(520, 530)})
# Failures that prove the request never reached the server: repeating it cannot duplicate a job.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# How far back, before a job's first submission, a lookup by idempotency key scans (clock skew).
_LOOKUP_MARGIN_S = 300.0
_LIST_PAGE = 100

Recover = Callable[[], Awaitable[Any]]


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


class IonQClient:
    """An async client of the IonQ API for one event loop; use it as ``async with``."""

    def __init__(self, settings: IonQSettings, *, retry: RetryPolicy = RetryPolicy(), timeouts: Timeouts = Timeouts(),
                 transport: httpx.AsyncBaseTransport | None = None, max_connections: int = 64,
                 seed: int | None = None) -> None:
        self.settings, self.retry = settings, retry
        self._rng = random.Random(seed)
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
        been processed); if it returns something, that is the answer and nothing is sent again.
        """
        content = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        request = self._http.build_request(method, self._url(path), content=content, params=params)
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                response = await self._http.send(request)
            except httpx.TransportError as exc:
                if attempt == self.retry.max_attempts:
                    raise TransportError(f"{method} {request.url.path}: no answer after {attempt} attempt(s): "
                                         f"{type(exc).__name__}") from exc
                reason, ambiguous, retry_after = type(exc).__name__, not isinstance(exc, _NOT_SENT), None
            else:
                if response.status_code not in RETRYABLE_STATUS or attempt == self.retry.max_attempts:
                    return self._decode(response, method)
                reason, ambiguous = f"HTTP {response.status_code}", response.status_code != 429
                retry_after = _retry_after(response)
            delay = self.retry.delay(attempt, retry_after, self._rng)
            logger.info("retrying %s %s after %s (attempt %d of %d) in %.2f s", method, request.url.path, reason,
                        attempt + 1, self.retry.max_attempts, delay)
            await asyncio.sleep(delay)
            if ambiguous and recover is not None:
                recovered = await recover()
                if recovered is not None:
                    return recovered
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _decode(self, response: httpx.Response, method: str) -> Any:
        """The JSON of a success answer; the mapped exception of an error answer."""
        path = response.request.url.path
        status = response.status_code
        if status in (401, 403):
            raise AuthenticationError(f"the IonQ API rejected the API key ({status} on {method} {path}); "
                                      "check IONQ_API_KEY or the api_key argument")
        if status >= 400:
            message = self.settings.redact(_server_message(response))
            raise RequestError(f"{method} {path} failed with {status}: {message}", method=method, path=path,
                               status_code=status)
        try:
            return response.json() if response.content else {}
        except ValueError as exc:
            raise RequestError(f"{method} {path} answered {status} with a body that is not JSON", method=method,
                               path=path, status_code=status) from exc

    # -- jobs --------------------------------------------------------------------------------------
    async def create_job(self, body: dict[str, Any], key: str, since: float) -> dict[str, Any]:
        """POST /jobs with ``key`` in the metadata; ``since`` is when this job was first submitted."""
        metadata = {**body.get("metadata", {}), IDEMPOTENCY_FIELD: key}
        return await self.request("POST", "jobs", body={**body, "metadata": metadata},
                                  recover=lambda: self.find_job(key, since))

    async def find_job(self, key: str, since: float) -> dict[str, Any] | None:
        """The job carrying idempotency ``key``, scanning jobs newest first back to ``since``."""
        params: dict[str, Any] = {"limit": _LIST_PAGE}
        while True:
            page = await self.request("GET", "jobs", params=params)
            for job in page.get("jobs", []):
                if (job.get("metadata") or {}).get(IDEMPOTENCY_FIELD) == key:
                    logger.info("found job %s by its idempotency key; not submitting it again", job.get("id"))
                    return job
                if float(job.get("request") or time.time()) < since - _LOOKUP_MARGIN_S:
                    return None
            if not page.get("next"):
                return None
            params = {"limit": _LIST_PAGE, "next": page["next"]}

    async def get_job(self, job_id: str) -> dict[str, Any]:
        return await self.request("GET", f"jobs/{job_id}")

    async def list_jobs(self, **filters: Any) -> dict[str, Any]:
        return await self.request("GET", "jobs", params=filters)

    async def cancel_job(self, job_id: str) -> dict[str, Any]:
        return await self.request("PUT", f"jobs/{job_id}/status/cancel")

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
