"""IonQ settings: the API key, base URL and target, and the small policy objects of the client.

Each setting comes from the argument, else the environment (``IONQ_API_KEY``, ``IONQ_BASE_URL``,
``IONQ_TARGET``), else a ``.env`` file in the working directory, else the default. Reprs never
show the key.
"""

from __future__ import annotations

import os
import random
from typing import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from qvec.errors import AuthenticationError, InputError

__all__ = [
    "DEFAULT_BASE_URL", "DEFAULT_TARGET", "IonQSettings", "RetryPolicy", "PollPolicy", "Timeouts",
    "environment_value", "resolve_settings",
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

    def __repr__(self) -> str:
        return f"IonQSettings(base_url={self.base_url!r}, target={self.target!r}, api_key={REDACTED})"

    def redact(self, text: str) -> str:
        """``text`` with every occurrence of the key replaced, for messages built from server answers."""
        return text.replace(self.api_key, REDACTED) if self.api_key else text


def environment_value(name: str, env_file: str | Path | None = ".env") -> str | None:
    """``name`` from the environment, else from ``env_file`` if it exists; ``None`` if unset or empty."""
    if os.environ.get(name):
        return os.environ[name]
    if env_file is None or not Path(env_file).is_file():
        return None
    return dotenv_values(env_file).get(name) or None


def resolve_settings(api_key: str | None = None, base_url: str | None = None, target: str | None = None, *,
                     env_file: str | Path | None = ".env") -> IonQSettings:
    """Settings from the arguments, the environment and ``env_file``; a missing key is an error."""
    key = api_key or environment_value("IONQ_API_KEY", env_file)
    if not key:
        raise AuthenticationError("no IonQ API key: pass api_key=, set IONQ_API_KEY, or put IONQ_API_KEY=... in .env")
    url = (base_url or environment_value("IONQ_BASE_URL", env_file) or DEFAULT_BASE_URL).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise InputError(f"IonQ base URL must start with http:// or https://, got {url!r}")
    return IonQSettings(key, url, target or environment_value("IONQ_TARGET", env_file) or DEFAULT_TARGET)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry: exponential backoff with jitter, Retry-After honoured."""

    max_attempts: int = 8
    backoff: float = 0.2
    max_delay: float = 10.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise InputError(f"max_attempts must be at least 1, got {self.max_attempts}")

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        ceiling = min(self.max_delay, self.backoff * 2 ** (attempt - 1))
        return ceiling * rng.uniform(0.5, 1.0)


@dataclass(frozen=True)
class PollPolicy:
    """Job polling: first wait ``initial`` seconds, multiply by ``factor`` each time, up to ``maximum``."""

    initial: float = 0.05
    factor: float = 1.5
    maximum: float = 0.25

    def intervals(self) -> Iterator[float]:
        """An endless iterator of waits between polls."""
        wait = self.initial
        while True:
            yield wait
            wait = min(wait * self.factor, self.maximum)


@dataclass(frozen=True)
class Timeouts:
    """Seconds: per HTTP request, and for a whole batch (``None``: no limit)."""

    request: float = 30.0
    batch: float | None = None
