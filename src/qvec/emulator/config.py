"""The emulator's configuration: keys, job timing and capacity, rate limit, and seeded faults."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from qvec.errors import InputError

__all__ = ["Faults", "EmulatorConfig", "MAX_QUBITS", "ENDPOINTS"]

# The widest job the emulator will simulate (2**29 complex128 amplitudes are 8 GiB).
MAX_QUBITS = 29
# The API's endpoints as fault injection names them (``Faults.endpoints``): method and path template.
ENDPOINTS = (
    "POST /jobs", "GET /jobs", "DELETE /jobs", "PUT /jobs/status/cancel", "GET /jobs/{id}", "DELETE /jobs/{id}",
    "PUT /jobs/{id}/status/cancel", "GET /jobs/{id}/results/probabilities",
    "GET /jobs/{id}/results/probabilities/aggregated", "GET /backends", "GET /backends/{name}",
)


def _check_rate(name: str, value: float) -> None:
    if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise InputError(f"{name} must be a probability from 0 to 1, got {value!r}")


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _checked_keys(keys: object) -> tuple[str, ...]:
    """The accepted keys, stripped of surrounding whitespace (a key read from a file ends in a newline)."""
    if isinstance(keys, str) or not isinstance(keys, (tuple, list)) or not keys:
        raise InputError("the emulator needs at least one API key (--api-key or IONQ_API_KEY)")
    stripped = []
    for position, key in enumerate(keys, start=1):
        key = key.strip() if isinstance(key, str) else ""
        if not key or not key.isprintable() or any(c.isspace() for c in key):
            raise InputError(f"API key {position} of {len(keys)} is empty or holds whitespace or control characters")
        stripped.append(key)
    return tuple(stripped)


def _check_limits(config: EmulatorConfig) -> None:
    """The memory budget and the result-keeping limits."""
    if not _is_integer(config.memory_budget) or config.memory_budget < 1:
        raise InputError(f"memory_budget must be a positive number of bytes, got {config.memory_budget!r}")
    if config.results_ttl is not None and not (isinstance(config.results_ttl, (int, float)) and config.results_ttl >= 0):
        raise InputError(f"results_ttl must be a number of seconds (0 or more) or None, got {config.results_ttl!r}")
    if config.results_kept is not None and not (_is_integer(config.results_kept) and config.results_kept >= 0):
        raise InputError(f"results_kept must be an integer (0 or more) or None, got {config.results_kept!r}")


@dataclass(frozen=True)
class Faults:
    """Seeded fault injection; each rate is the probability that one API request (or job) is hit.

    - ``error_rate``: answered with one of ``error_statuses`` (502/503/504/52x) before any processing;
    - ``rate_limit_rate``: answered 429 with ``Retry-After: retry_after``;
    - ``drop_rate``: the connection is dropped before any processing;
    - ``slow_rate``: processed, and the answer held back ``slow_seconds``;
    - ``lost_answer_rate``: ``POST /jobs`` creates the job, then the connection drops;
    - ``truncate_rate``: processed, and a success answer's JSON body cut in half;
    - ``missing_result_rate``, ``empty_result_rate``, ``unnormalized_result_rate``: a job's results
      answer lacks one entry (an aggregated answer one circuit's result, a plain one a basis state),
      holds an empty result for one circuit, or one circuit's probabilities halved (the same for every
      fetch of that job);
    - ``fail_rate``: a job fails (``failure.code`` ``EmulatorInjectedFailure``);
    - ``stuck_rate``: a job starts and never finishes (until canceled).

    The request faults hit only the ``endpoints`` named (all of them when empty), and each endpoint
    draws from its own generator seeded by ``seed`` and its name, so that which of its requests are
    hit does not depend on how many requests other endpoints got.
    """

    seed: int = 0
    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    drop_rate: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 1.0
    lost_answer_rate: float = 0.0
    truncate_rate: float = 0.0
    missing_result_rate: float = 0.0
    empty_result_rate: float = 0.0
    unnormalized_result_rate: float = 0.0
    fail_rate: float = 0.0
    stuck_rate: float = 0.0
    retry_after: float = 0.1
    error_statuses: tuple[int, ...] = (502, 503, 504, 520, 521, 522, 523, 524, 525, 526, 527, 528, 529)
    endpoints: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name.endswith("_rate"):
                _check_rate(f.name, getattr(self, f.name))
        for name in ("slow_seconds", "retry_after"):
            if not getattr(self, name) >= 0:
                raise InputError(f"{name} must not be negative, got {getattr(self, name)!r}")
        if not self.error_statuses or not all(500 <= s <= 599 for s in self.error_statuses):
            raise InputError(f"error_statuses must be 5xx codes, got {self.error_statuses!r}")
        if not isinstance(self.endpoints, tuple) or any(e not in ENDPOINTS for e in self.endpoints):
            raise InputError(f"endpoints must be a tuple of {', '.join(ENDPOINTS)}; got {self.endpoints!r}")


@dataclass(frozen=True)
class EmulatorConfig:
    """How the emulator behaves. ``repr`` never shows the keys.

    A job waits ``queue_latency`` seconds, then runs for ``latency`` seconds holding one of
    ``capacity`` slots (plus ``latency_per_circuit`` per circuit). ``rate_limit`` caps requests per
    second per key (429 beyond). ``max_qubits`` is what the emulator simulates; wider jobs fail.
    ``memory_budget`` (bytes) bounds what jobs in flight may take at their largest plus the results
    kept: a job that alone exceeds it is refused (400), one that does not fit now waits (503).
    Results are kept ``results_ttl`` seconds after a job finishes, for the ``results_kept`` newest
    finished jobs (None: no limit), then evicted (410).
    """

    api_keys: tuple[str, ...] = field(repr=False, default=())
    latency: float = 0.0
    queue_latency: float = 0.0
    latency_per_circuit: float = 0.0
    capacity: int = 10
    rate_limit: float | None = None
    faults: Faults = Faults()
    admin: bool = False
    max_qubits: int = 22
    seed: int = 0
    memory_budget: int = 4 * 2**30
    results_ttl: float | None = 3600.0
    results_kept: int | None = 1000

    def __post_init__(self) -> None:
        object.__setattr__(self, "api_keys", _checked_keys(self.api_keys))
        if not _is_integer(self.capacity) or self.capacity < 1:
            raise InputError(f"capacity must be an integer of at least 1, got {self.capacity!r}")
        if not _is_integer(self.max_qubits) or not 1 <= self.max_qubits <= MAX_QUBITS:
            raise InputError(f"max_qubits must be an integer from 1 to {MAX_QUBITS}, got {self.max_qubits!r}")
        if self.rate_limit is not None and not self.rate_limit > 0:
            raise InputError(f"rate_limit must be a positive number of requests per second, got {self.rate_limit!r}")
        for name in ("latency", "queue_latency", "latency_per_circuit"):
            if getattr(self, name) < 0:
                raise InputError(f"{name} must not be negative, got {getattr(self, name)}")
        _check_limits(self)
