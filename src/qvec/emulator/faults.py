"""An ASGI layer in front of the API: counts answers per status, rate-limits, injects seeded faults."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import random
import time
from typing import Any, Awaitable, Callable

from .config import EmulatorConfig, Faults
from .store import API_PREFIX, Counters

__all__ = ["FaultLayer", "DroppedConnection", "quiet_dropped_connections", "endpoint_name"]

Message = dict[str, Any]
Send = Callable[[Message], Awaitable[None]]
Receive = Callable[[], Awaitable[Message]]
_RESULTS = ("GET /jobs/{id}/results/probabilities", "GET /jobs/{id}/results/probabilities/aggregated")
_RESULT_FAULTS = ("missing", "empty", "unnormalized")


class DroppedConnection(Exception):
    """Raised after the answer's headers so that the server closes the connection mid-answer."""


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], DroppedConnection))


def quiet_dropped_connections() -> None:
    """Keep uvicorn from logging a traceback for each connection dropped on purpose."""
    logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


def endpoint_name(method: str, path: str) -> str:
    """``"GET /jobs/{id}"`` for ``GET /v0.4/jobs/<uuid>``: the name ``Faults.endpoints`` uses."""
    parts = path[len(API_PREFIX):].strip("/").split("/")
    if len(parts) > 1 and (parts[0], parts[1]) != ("jobs", "status"):
        parts[1] = "{id}" if parts[0] == "jobs" else "{name}"
    return f"{method} /{'/'.join(parts)}"


def _job_id(path: str) -> str:
    """The job id in a path under ``/v0.4/jobs/{id}``."""
    return path[len(API_PREFIX):].strip("/").split("/")[1]


def _header(scope: Message, name: bytes) -> str:
    return next((v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == name), "")


class _TokenBucket:
    """``rate`` requests per second per client, in bursts of up to ``max(rate, 1)``."""

    def __init__(self, rate: float) -> None:
        self.rate, self.burst = rate, max(rate, 1.0)
        self._buckets: dict[str, tuple[float, float]] = {}

    def wait_time(self, client: str) -> float:
        """0 if a request may pass now (and take a token), else seconds until one may."""
        now = time.monotonic()
        tokens, last = self._buckets.get(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1:
            self._buckets[client] = (tokens - 1, now)
            return 0.0
        self._buckets[client] = (tokens, now)
        return (1 - tokens) / self.rate


class FaultLayer:
    """Wraps the API app; only paths under the API prefix are counted, limited and faulted.

    ``requests_per_status`` counts each answer by its status, or by what a fault did instead
    (``dropped``, ``slow``, ``truncated``, ``result missing``/``empty``/``unnormalized``), so that
    the counts still add up to the requests served.
    """

    def __init__(self, app: Callable[..., Awaitable[None]], config: EmulatorConfig, counters: Counters) -> None:
        self.app, self.faults, self.counters = app, config.faults, counters
        self._rngs: dict[str, random.Random] = {}
        self._result_faults: dict[str, str | None] = {}  # job id -> what its results answers suffer
        self._spoils_results = any(getattr(config.faults, f"{name}_result_rate") > 0 for name in _RESULT_FAULTS)
        self._bucket = _TokenBucket(config.rate_limit) if config.rate_limit else None

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            return await self.app(scope, receive, send)
        counted = self._counting(send)
        wait = self._rate_limit_wait(scope)
        if wait > 0:  # Retry-After in whole seconds, as HTTP defines it (and urllib3-based clients parse it)
            return await self._answer(counted, 429, "Too Many Requests", math.ceil(wait))
        endpoint = endpoint_name(scope["method"], scope["path"])
        fault = self._draw(endpoint)
        if fault == "rate_limit":
            return await self._answer(counted, 429, "Too Many Requests", self.faults.retry_after)
        if fault == "error":
            return await self._answer(counted, self._rng(endpoint).choice(self.faults.error_statuses),
                                      "injected gateway error")
        if fault == "drop":
            await self._drop(send)
        if fault is None and endpoint in _RESULTS and self._spoils_results:
            fault = self._result_fault(endpoint, _job_id(scope["path"]))
        if fault is not None:
            return await self._rewritten(scope, receive, send, fault)
        await self.app(scope, receive, counted)

    def _rate_limit_wait(self, scope: Message) -> float:
        """Seconds this caller must wait under the rate limit (0: go ahead)."""
        if self._bucket is None:
            return 0.0
        key = _header(scope, b"authorization").partition(" ")[2].strip()
        return self._bucket.wait_time(hashlib.sha256(key.encode()).hexdigest())

    def _rng(self, stream: str) -> random.Random:
        """A stream's own generator (an endpoint's, or its result faults'), seeded by the fault seed and its name."""
        if stream not in self._rngs:
            self._rngs[stream] = random.Random(f"{self.faults.seed}:{stream}")
        return self._rngs[stream]

    def _hits(self, endpoint: str) -> bool:
        return not self.faults.endpoints or endpoint in self.faults.endpoints

    def _draw(self, endpoint: str) -> str | None:
        """Which request fault, if any, hits this request: one seeded draw against the cumulative rates."""
        if not self._hits(endpoint):
            return None
        f = self.faults
        draw, edge = self._rng(endpoint).random(), 0.0
        for name, rate in (("error", f.error_rate), ("rate_limit", f.rate_limit_rate), ("drop", f.drop_rate),
                           ("slow", f.slow_rate), ("lost", f.lost_answer_rate if endpoint == "POST /jobs" else 0.0),
                           ("truncate", f.truncate_rate)):
            edge += rate
            if draw < edge:
                return name
        return None

    def _result_fault(self, endpoint: str, job_id: str) -> str | None:
        """What the results answers of a job suffer, drawn on its first fetch and kept."""
        if job_id not in self._result_faults:
            self._result_faults[job_id] = _draw_result_fault(self.faults, self._rng(f"{endpoint} results"))
        return self._result_faults[job_id]

    def _counting(self, send: Send) -> Send:
        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.counters.requests_per_status[str(message["status"])] += 1
            await send(message)
        return counted

    async def _answer(self, send: Send, status: int, message: str, retry_after: float | None = None) -> None:
        """An error answer; an injected 429 may carry a fractional Retry-After (fast tests), the limiter's is whole."""
        body = json.dumps({"statusCode": status, "error": message, "message": message}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if retry_after is not None:
            seconds = str(int(retry_after)) if float(retry_after).is_integer() else f"{retry_after:.3f}"
            headers.append((b"retry-after", seconds.encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _drop(self, send: Send) -> None:
        self.counters.requests_per_status["dropped"] += 1
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]})
        raise DroppedConnection("connection dropped (fault injection)")

    async def _rewritten(self, scope: Message, receive: Receive, send: Send, fault: str) -> None:
        """Process the request, then drop the answer (lost), hold it back (slow), or change its body
        (truncate, or a result fault)."""
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        if fault == "lost":
            await self._drop(send)
        start = held[0]
        body = b"".join(m.get("body", b"") for m in held[1:])
        if fault == "slow":
            self.counters.requests_per_status["slow"] += 1  # counted now: the client may be gone by the answer
            await asyncio.sleep(self.faults.slow_seconds)
        else:
            body, outcome = _changed(start["status"], body, fault)
            self.counters.requests_per_status[outcome] += 1
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _changed(status: int, body: bytes, fault: str) -> tuple[bytes, str]:
    """The body as ``fault`` changes it, and what to count; an error answer passes unchanged."""
    if status < 300 and fault == "truncate":
        return body[:len(body) // 2], "truncated"
    if status == 200 and fault in _RESULT_FAULTS:
        return _corrupted(json.loads(body), fault)
    return body, str(status)


def _draw_result_fault(faults: Faults, rng: random.Random) -> str | None:
    """Which result fault, if any, a job's results suffer."""
    draw, edge = rng.random(), 0.0
    for name, rate in zip(_RESULT_FAULTS, (faults.missing_result_rate, faults.empty_result_rate,
                                           faults.unnormalized_result_rate)):
        edge += rate
        if draw < edge:
            return name
    return None


def _corrupted(answer: Any, fault: str) -> tuple[bytes, str]:
    """A results answer with ``fault`` applied to its last circuit (or, for a plain answer, to itself)."""
    if isinstance(answer, dict) and answer and all(isinstance(v, dict) for v in answer.values()):
        last = list(answer)[-1]
        if fault == "missing":
            del answer[last]
        else:
            answer[last] = _corrupted_distribution(answer[last], fault)
    elif isinstance(answer, dict):
        answer = _corrupted_distribution(answer, fault)
    return json.dumps(answer).encode(), f"result {fault}"


def _corrupted_distribution(distribution: dict[str, float], fault: str) -> dict[str, float]:
    if fault == "empty":
        return {}
    if fault == "unnormalized":
        return {state: value / 2 for state, value in distribution.items()}
    largest = max(distribution, key=distribution.get, default=None)  # missing: the most probable state
    return {state: value for state, value in distribution.items() if state != largest}
