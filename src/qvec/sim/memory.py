"""How many rows of a batch fit in memory at once: the budget and the chunk size."""

from __future__ import annotations

import os

import torch

__all__ = ["DEFAULT_BUDGET_FRACTION", "memory_budget", "set_memory_budget", "rows_per_chunk"]

DEFAULT_BUDGET_FRACTION = 0.25
_budget_override: int | None = None


def set_memory_budget(n_bytes: int | None) -> None:
    """Fix the budget for state tensors in bytes (``None``: back to a fraction of free memory)."""
    global _budget_override
    if n_bytes is not None and n_bytes <= 0:
        raise ValueError(f"memory budget must be a positive number of bytes, got {n_bytes}")
    _budget_override = n_bytes


def _free_bytes(device: torch.device) -> int:
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def memory_budget(device: torch.device) -> int:
    """Bytes a simulation may hold at once: the override, ``QVEC_MEMORY_BUDGET``, or a fraction of free memory."""
    if _budget_override is not None:
        return _budget_override
    env = os.environ.get("QVEC_MEMORY_BUDGET")
    if env:
        try:
            return int(float(env))
        except ValueError:
            raise ValueError(f"QVEC_MEMORY_BUDGET must be a number of bytes, got {env!r}") from None
    return int(_free_bytes(device) * DEFAULT_BUDGET_FRACTION)


def rows_per_chunk(bytes_per_row: int, device: torch.device) -> int:
    """The largest number of rows whose working memory fits the budget (at least one)."""
    return max(1, memory_budget(device) // max(1, bytes_per_row))
