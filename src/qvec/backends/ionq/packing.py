"""Packing circuits into multi-circuit jobs within the API's limits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

from qvec.errors import InputError

__all__ = ["PackingLimits", "DEFAULT_LIMITS", "pack_circuits"]

# Room left in each request body for the job's other fields (type, backend, metadata, ...).
_BODY_OVERHEAD = 4096


@dataclass(frozen=True)
class PackingLimits:
    """The most circuits, gates (in total) and request-body bytes one job may hold."""

    max_circuits: int = 5000
    max_gates: int = 150_000
    max_bytes: int = 10_000_000

    def __post_init__(self) -> None:
        for name in ("max_circuits", "max_gates", "max_bytes"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be at least 1, got {getattr(self, name)}")


DEFAULT_LIMITS = PackingLimits()


def _size(entry: dict[str, Any]) -> int:
    return len(json.dumps(entry, separators=(",", ":"))) + 1


def pack_circuits(entries: Sequence[dict[str, Any]], limits: PackingLimits = DEFAULT_LIMITS) -> list[list[int]]:
    """Split circuit entries (``{"circuit": [gates], ...}``) into consecutive index groups, one per job."""
    groups: list[list[int]] = []
    gates = size = 0
    budget = limits.max_bytes - _BODY_OVERHEAD
    for index, entry in enumerate(entries):
        n_gates, n_bytes = len(entry["circuit"]), _size(entry)
        if n_gates > limits.max_gates or n_bytes > budget:
            raise InputError(f"circuit {index} alone exceeds a job's limits ({n_gates} gates, {n_bytes} bytes; {limits})")
        full = groups and (len(groups[-1]) >= limits.max_circuits or gates + n_gates > limits.max_gates
                           or size + n_bytes > budget)
        if not groups or full:
            groups.append([])
            gates = size = 0
        groups[-1].append(index)
        gates += n_gates
        size += n_bytes
    return groups
