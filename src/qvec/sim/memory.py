"""The memory a simulation may hold: the device, its available memory, the budget, size checks, chunks.

Sizes are checked before anything large is allocated, so a request that cannot fit fails at once
with an ``InputError`` that says what it needs and what fits, instead of an allocator traceback.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import torch

from qvec.errors import BackendError, InputError

__all__ = [
    "DEFAULT_BUDGET_FRACTION", "allocation_failures_as_errors", "available_bytes", "check_fits", "fits_budget", "format_bytes",
    "memory_budget", "parse_meminfo", "resolve_device", "rows_per_chunk", "set_memory_budget",
]

# Share of the device's available memory a simulation may use when no budget is set.
DEFAULT_BUDGET_FRACTION = 0.5
MEMINFO = Path("/proc/meminfo")
BUDGET_VARIABLE = "QVEC_MEMORY_BUDGET"
_budget_override: int | None = None
# See fits_budget.
SMALL_RUN_BYTES = 16 * 2**20


def resolve_device(device: Any) -> torch.device:
    """``device`` as a ``torch.device`` (the CPU for ``None``); an ``InputError`` if it is not one this machine has."""
    if device is None:
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise InputError(f"device {device!r} is not a torch device ({exc})") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {device!r} was asked for, but CUDA is not available on this machine")
    if resolved.type not in ("cpu", "cuda", "mps"):
        raise InputError(f"device {device!r} is not supported; use 'cpu' or 'cuda'")
    return resolved


def set_memory_budget(n_bytes: int | None) -> None:
    """Fix the budget for a simulation in bytes (``None``: back to a share of available memory)."""
    global _budget_override
    if n_bytes is not None and (isinstance(n_bytes, bool) or not isinstance(n_bytes, int) or n_bytes <= 0):
        raise InputError(f"memory budget must be a positive number of bytes, got {n_bytes!r}")
    _budget_override = n_bytes


def parse_meminfo(text: str) -> int | None:
    """``MemAvailable`` in bytes from the text of ``/proc/meminfo`` (``None`` if it is not there)."""
    match = re.search(r"^MemAvailable:\s+(\d+)\s*kB\s*$", text, flags=re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def _cpu_available_bytes() -> int | None:
    """Memory the OS can give without swapping: MemAvailable on Linux, else psutil where it is installed,
    else free pages, else (macOS without psutil) the physical memory; ``None`` where none of these is known."""
    try:
        available = parse_meminfo(MEMINFO.read_text())
    except OSError:
        available = None
    if available is not None:
        return available
    try:
        import psutil  # optional: not a dependency, used where it is installed
    except ImportError:
        pass
    else:
        return int(psutil.virtual_memory().available)
    for pages in ("SC_AVPHYS_PAGES", "SC_PHYS_PAGES"):
        try:
            return os.sysconf(pages) * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            continue
    return None


def available_bytes(device: torch.device) -> int | None:
    """Bytes the device can still allocate (``None`` where this platform does not say)."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    if device.type == "cpu":
        return _cpu_available_bytes()
    return None


def memory_budget(device: torch.device) -> int:
    """Bytes a simulation may hold at once: the override, ``QVEC_MEMORY_BUDGET``, or a share of available memory."""
    if _budget_override is not None:
        return _budget_override
    env = os.environ.get(BUDGET_VARIABLE, "").strip()
    if env:
        try:
            value = int(float(env))
        except (ValueError, OverflowError):
            value = 0
        if value <= 0:
            raise InputError(f"{BUDGET_VARIABLE} must be a positive number of bytes, got {env!r}")
        return value
    available = available_bytes(device)
    if available is None:
        raise BackendError(f"cannot tell how much memory {device} has available; set {BUDGET_VARIABLE} (bytes) "
                           "or install psutil")
    return int(available * DEFAULT_BUDGET_FRACTION)


def format_bytes(n_bytes: int) -> str:
    """``n_bytes`` in GiB, MiB or KiB with one decimal; sizes past 2**60 as a power of two."""
    if n_bytes >= 2**60:
        return f"about 2**{n_bytes.bit_length() - 1} bytes"
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n_bytes >= size:
            return f"{n_bytes / size:.1f} {unit}"
    return f"{n_bytes} bytes"


def check_fits(needed: int, what: str, device: torch.device, advice: str) -> None:
    """Raise ``InputError`` before allocating if ``needed`` bytes exceed the budget or what the device has.

    ``what`` names the request ("24 qubits x B = 64 (probabilities)"); ``advice`` says what to lower.
    """
    budget = memory_budget(device)
    if needed > budget:
        raise InputError(f"{what}: {format_bytes(needed)} needed; the memory budget is {format_bytes(budget)}: "
                         f"{advice}, or set {BUDGET_VARIABLE}")
    available = available_bytes(device)
    if available is not None and needed > available:
        raise InputError(f"{what}: {format_bytes(needed)} needed; {device} has {format_bytes(available)} available: "
                         f"{advice}")


def fits_budget(needed: int, device: torch.device) -> bool:
    """Whether ``needed`` bytes fit the budget and what the device has (the test ``check_fits`` makes, as a bool).

    Up to ``SMALL_RUN_BYTES`` on the CPU a budget set by ``set_memory_budget`` or ``QVEC_MEMORY_BUDGET`` (which
    may be anything) is still checked, but the share of free memory is not read: that costs two reads of
    /proc/meminfo, more than a small step, and could only fail with under twice ``SMALL_RUN_BYTES`` free.
    """
    if needed <= SMALL_RUN_BYTES and device.type == "cpu":
        if _budget_override is None and not os.environ.get(BUDGET_VARIABLE, "").strip():
            return True
        return needed <= memory_budget(device)
    available = available_bytes(device)
    return needed <= memory_budget(device) and (available is None or needed <= available)


@contextmanager
def allocation_failures_as_errors(what: str) -> Iterator[None]:
    """Turn an allocator's failure inside the block into a ``BackendError`` naming ``what`` and the budget.

    Sizes are checked before a run, but the check is an estimate and other processes use memory too.
    """
    try:
        yield
    except RuntimeError as exc:
        if not isinstance(exc, torch.OutOfMemoryError) and "can't allocate memory" not in str(exc):
            raise
        raise BackendError(f"{what}: out of memory while running ({str(exc).splitlines()[0][:200]}); lower the "
                           f"batch, or set {BUDGET_VARIABLE} below what other processes leave free") from None


def rows_per_chunk(bytes_per_row: int, device: torch.device, reserved: int = 0) -> int:
    """The largest number of rows whose working memory fits the budget less ``reserved`` (at least one)."""
    return max(1, (memory_budget(device) - reserved) // max(1, bytes_per_row))
