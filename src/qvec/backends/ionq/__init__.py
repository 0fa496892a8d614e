"""The IonQ backend: settings, client, compilation, packing, strategies and the backend object."""

from .backend import CircuitResults, IonQBackend
from .client import IonQClient
from .journal import JobJournal
from .journal_file import JournalError
from .packing import PackingLimits, pack_circuits
from .results import SparseDistribution
from .settings import IonQSettings, PollPolicy, RateLimit, RetryPolicy, Timeouts, resolve_settings
from .strategies import Concurrent, Packed, Sequential, Strategy, Threads, parse_strategy

__all__ = [
    "CircuitResults", "Concurrent", "IonQBackend", "IonQClient", "IonQSettings", "JobJournal", "JournalError", "Packed", "PackingLimits",
    "PollPolicy", "RateLimit", "RetryPolicy", "Sequential", "SparseDistribution", "Strategy", "Threads", "Timeouts", "pack_circuits",
    "parse_strategy", "resolve_settings",
]
