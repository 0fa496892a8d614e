"""One request budget shared by every request of a batch, from any thread: a token bucket with AIMD.

Each request takes a token before it is sent; tokens refill at the current rate. A 429 halves
the rate (multiplicative decrease, at most once per cooldown, since the answers to one burst
arrive together); time restores it linearly (additive increase). Workers that were told to slow
down therefore slow down together instead of retrying in lockstep.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Callable

from .settings import RateLimit

__all__ = ["RateBudget"]

# After one decrease, further 429s within this many seconds belong to the same burst.
_COOLDOWN_S = 1.0


class RateBudget:
    """A thread-safe token bucket whose rate a 429 halves and time restores."""

    def __init__(self, limit: RateLimit = RateLimit(), clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self._clock = limit, clock
        self._lock = threading.Lock()
        self._rate = limit.per_second
        self._tokens = float(limit.burst)
        self._updated = self._last_decrease = clock()
        self._last_decrease -= _COOLDOWN_S

    def __repr__(self) -> str:
        return f"RateBudget(rate={self.rate:.2f}/s, limit={self.limit!r})"

    @property
    def rate(self) -> float:
        """Requests per second allowed now."""
        with self._lock:
            self._refill(self._clock())
            return self._rate

    def reserve(self) -> float:
        """Take a token; return the seconds to wait before sending (0 when one was there)."""
        with self._lock:
            self._refill(self._clock())
            self._tokens -= 1.0
            return max(0.0, -self._tokens / self._rate)

    async def acquire(self) -> None:
        """Wait for this request's turn."""
        wait = self.reserve()
        if wait > 0:
            await asyncio.sleep(wait)

    def throttled(self) -> None:
        """The server answered 429: halve the rate, unless this burst already did."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            if now - self._last_decrease >= _COOLDOWN_S:
                self._rate = max(self.limit.minimum, self._rate / 2)
                self._tokens = min(self._tokens, 0.0)
                self._last_decrease = now

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._updated)
        self._updated = now
        self._tokens = min(float(self.limit.burst), self._tokens + elapsed * self._rate)
        step = self.limit.per_second / self.limit.recovery
        self._rate = min(self.limit.per_second, self._rate + elapsed * step)
