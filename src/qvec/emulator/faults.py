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

from .config import EmulatorConfig
from .store import API_PREFIX, Counters

__all__ = ["FaultLayer", "DroppedConnection", "quiet_dropped_connections"]

Message = dict[str, Any]
Send = Callable[[Message], Awaitable[None]]


class DroppedConnection(Exception):
    """Raised after the answer's headers so that the server closes the connection mid-answer."""


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], DroppedConnection))


def quiet_dropped_connections() -> None:
    """Keep uvicorn from logging a traceback for each connection dropped on purpose."""
    logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


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
    """Wraps the API app; only paths under the API prefix are counted, limited and faulted."""

    def __init__(self, app: Callable[..., Awaitable[None]], config: EmulatorConfig, counters: Counters) -> None:
        self.app, self.faults, self.counters = app, config.faults, counters
        self._rng = random.Random(config.faults.seed)
        self._bucket = _TokenBucket(config.rate_limit) if config.rate_limit else None

    async def __call__(self, scope: Message, receive: Callable[[], Awaitable[Message]], send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            return await self.app(scope, receive, send)
        counted = self._counting(send)
        wait = self._rate_limit_wait(scope)
        if wait > 0:  # Retry-After in whole seconds, as HTTP defines it (and urllib3-based clients parse it)
            return await self._answer(counted, 429, "Too Many Requests", math.ceil(wait))
        fault = self._draw(scope)
        if fault == "rate_limit":
            return await self._answer(counted, 429, "Too Many Requests", self.faults.retry_after)
        if fault == "error":
            return await self._answer(counted, self._rng.choice(self.faults.error_statuses), "injected gateway error")
        if fault == "drop":
            await self._drop(send)
        if fault in ("slow", "lost"):
            return await self._delayed(scope, receive, send, counted, lost=fault == "lost")
        await self.app(scope, receive, counted)

    def _rate_limit_wait(self, scope: Message) -> float:
        """Seconds this caller must wait under the rate limit (0: go ahead)."""
        if self._bucket is None:
            return 0.0
        key = _header(scope, b"authorization").partition(" ")[2].strip()
        return self._bucket.wait_time(hashlib.sha256(key.encode()).hexdigest())

    def _draw(self, scope: Message) -> str | None:
        """Which fault, if any, hits this request: one seeded draw against the cumulative rates."""
        creates_job = scope["method"] == "POST" and scope["path"].rstrip("/") == f"{API_PREFIX}/jobs"
        f = self.faults
        draw, edge = self._rng.random(), 0.0
        for name, rate in (("error", f.error_rate), ("rate_limit", f.rate_limit_rate), ("drop", f.drop_rate),
                           ("slow", f.slow_rate), ("lost", f.lost_answer_rate if creates_job else 0.0)):
            edge += rate
            if draw < edge:
                return name
        return None

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

    async def _delayed(self, scope: Message, receive: Callable[[], Awaitable[Message]], send: Send, counted: Send,
                       lost: bool) -> None:
        """Process the request, then drop the answer (lost) or hold it back (slow)."""
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        if lost:
            await self._drop(send)
        await asyncio.sleep(self.faults.slow_seconds)
        for message in held:
            await counted(message)
