"""IonQ settings: the API key, base URL and target, and the small policy objects of the client.

Each setting comes from the argument, else the environment (``IONQ_API_KEY``, ``IONQ_BASE_URL``,
``IONQ_TARGET``), else a ``.env`` file in the working directory, else the default. Reprs never
show the key.
"""

from __future__ import annotations

import math
import os
import random
from typing import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from qvec.errors import AuthenticationError, InputError

__all__ = [
    "DEFAULT_BASE_URL", "DEFAULT_TARGET", "DEFAULT_STALL_S", "IonQSettings", "RetryPolicy", "PollPolicy", "Timeouts",
    "RateLimit", "check_api_key", "environment_value", "resolve_settings",
]

DEFAULT_BASE_URL = "https://api.ionq.co/v0.4"
DEFAULT_TARGET = "simulator"
REDACTED = "***"


@dataclass(frozen=True)
class IonQSettings:
    """Where and as whom to talk to the API. ``repr`` shows whether a key is set, never the key."""

    api_key: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    target: str = DEFAULT_TARGET

    def __post_init__(self) -> None:
        check_api_key(self.api_key, "IonQSettings(api_key=...)")

    def __repr__(self) -> str:
        return f"IonQSettings(base_url={self.base_url!r}, target={self.target!r}, api_key={REDACTED})"

    def redact(self, text: str) -> str:
        """``text`` with every occurrence of the key replaced, for messages built from server answers."""
        return text.replace(self.api_key, REDACTED) if self.api_key else text


def check_api_key(key: str, source: str) -> None:
    """Refuse a key that cannot travel in an HTTP header, naming where it came from and never the key."""
    position = next((i for i, char in enumerate(key) if not " " <= char <= "~"), None)
    if position is not None:
        raise InputError(f"the IonQ API key from {source} contains a control or non-ASCII character "
                         f"(character {position + 1}); fix the key there (it is not shown)")


def environment_value(name: str, env_file: str | Path | None = ".env") -> str | None:
    """``name`` from the environment, else from ``env_file`` if it exists; ``None`` if unset or empty."""
    return _sourced_value(name, env_file)[0]


def _sourced_value(name: str, env_file: str | Path | None) -> tuple[str | None, str]:
    """``name`` from the environment or ``env_file``, and a phrase naming where it came from."""
    if os.environ.get(name):
        return os.environ[name], f"the environment variable {name}"
    if env_file is None or not Path(env_file).is_file():
        return None, name
    return dotenv_values(env_file).get(name) or None, f"{name} in {env_file}"


def _api_key(api_key: str | None, env_file: str | Path | None) -> str:
    """The key from the argument, the environment or ``env_file``, stripped of surrounding whitespace."""
    value, source = (api_key, "the api_key argument") if api_key else _sourced_value("IONQ_API_KEY", env_file)
    key = (value or "").strip()
    if not key:
        raise AuthenticationError("no IonQ API key: pass api_key=, set IONQ_API_KEY, or put IONQ_API_KEY=... in .env")
    check_api_key(key, source)
    return key


def resolve_settings(api_key: str | None = None, base_url: str | None = None, target: str | None = None, *,
                     env_file: str | Path | None = ".env") -> IonQSettings:
    """Settings from the arguments, the environment and ``env_file``; a missing or malformed key is an error."""
    key = _api_key(api_key, env_file)
    url = (base_url or environment_value("IONQ_BASE_URL", env_file) or DEFAULT_BASE_URL).strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise InputError(f"IonQ base URL must start with http:// or https://, got {url!r}")
    return IonQSettings(key, url, (target or environment_value("IONQ_TARGET", env_file) or DEFAULT_TARGET).strip())


def _check_seconds(owner: str, name: str, value: float | None, *, optional: bool = False) -> None:
    """A positive number of seconds (``None`` too when ``optional``); the message names the bad value."""
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or value <= 0:
        allowed = "a positive number of seconds" + (" or None" if optional else "")
        raise InputError(f"{owner}.{name} must be {allowed}, got {value!r}")


def _check_count(owner: str, name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{owner}.{name} must be a positive integer, got {value!r}")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry: exponential backoff with jitter, Retry-After honoured (jittered).

    ``max_attempts`` bounds answers with a retryable status (429, 502-504, 52x), and timeouts (each
    costs a request timeout). A request whose connection was refused or dropped is safe to repeat
    (a job-creating POST is looked up by its idempotency key first), so those have their own, more
    patient ``connection_attempts``; but refused connections to a host that has never answered
    give up after ``unreached_attempts`` (a wrong URL or a server that is down should fail at once).
    """

    max_attempts: int = 8
    connection_attempts: int = 20
    unreached_attempts: int = 3
    backoff: float = 0.2
    max_delay: float = 10.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        for name in ("max_attempts", "connection_attempts", "unreached_attempts"):
            _check_count("RetryPolicy", name, getattr(self, name))
        for name in ("backoff", "max_delay", "max_retry_after"):
            _check_seconds("RetryPolicy", name, getattr(self, name))

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based).

        A server's Retry-After is a floor: up to half of it again is added at random, so that
        clients told the same delay do not all come back at the same instant.
        """
        if retry_after is not None:
            floor = min(retry_after, self.max_retry_after)
            return floor + rng.uniform(0.0, max(floor, self.backoff) / 2)
        ceiling = min(self.max_delay, self.backoff * 2 ** (attempt - 1))
        return ceiling * rng.uniform(0.5, 1.0)


@dataclass(frozen=True)
class PollPolicy:
    """Job polling: first wait ``initial`` seconds, multiply by ``factor`` each time, up to ``maximum``.

    The defaults suit the real service (a poll every 5 s at most once a job has run a while; one
    request polls every job of a batch). Tests and benchmarks against the emulator pass faster ones.
    """

    initial: float = 0.5
    factor: float = 1.5
    maximum: float = 5.0

    def __post_init__(self) -> None:
        for name in ("initial", "maximum"):
            _check_seconds("PollPolicy", name, getattr(self, name))
        if isinstance(self.factor, bool) or not isinstance(self.factor, (int, float)) or not self.factor >= 1:
            raise InputError(f"PollPolicy.factor must be a number of at least 1, got {self.factor!r}")
        if self.maximum < self.initial:
            raise InputError(f"PollPolicy.maximum ({self.maximum!r}) must not be below initial ({self.initial!r})")

    def intervals(self) -> Iterator[float]:
        """An endless iterator of waits between polls."""
        wait = self.initial
        while True:
            yield wait
            wait = min(wait * self.factor, self.maximum)


DEFAULT_STALL_S = 3600.0


@dataclass(frozen=True)
class Timeouts:
    """Seconds: per HTTP request; for a whole batch (``None``: no limit); and ``stall``, how long a job
    may keep one status (queued, running) before it is canceled and reported as stuck.

    The stall deadline (one hour by default) is what ends a job that hangs on the server when no
    batch limit is set. QPU queues can hold a job longer: raise it for them, or pass ``None``.
    """

    request: float = 30.0
    batch: float | None = None
    stall: float | None = DEFAULT_STALL_S

    def __post_init__(self) -> None:
        _check_seconds("Timeouts", "request", self.request)
        _check_seconds("Timeouts", "batch", self.batch, optional=True)
        _check_seconds("Timeouts", "stall", self.stall, optional=True)


@dataclass(frozen=True)
class RateLimit:
    """The request budget a batch shares: ``per_second`` at most, in bursts of up to ``burst``.

    A 429 halves the rate (down to ``minimum``); it then recovers to ``per_second`` over
    ``recovery`` seconds. IonQ publishes no limit, so the default is a polite guess.
    """

    per_second: float = 20.0
    burst: int = 20
    minimum: float = 0.5
    recovery: float = 20.0

    def __post_init__(self) -> None:
        for name in ("per_second", "minimum", "recovery"):
            _check_seconds("RateLimit", name, getattr(self, name))
        _check_count("RateLimit", "burst", self.burst)
        if self.minimum > self.per_second:
            raise InputError(f"RateLimit.minimum ({self.minimum!r}) must not exceed per_second ({self.per_second!r})")
