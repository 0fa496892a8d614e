"""What a circuit is made of: qubits, depth, gate counts, parameters (``Circuit.specs()``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable

from .operation import Operation

__all__ = ["CircuitSpecs", "circuit_specs", "schedule"]


@dataclass(frozen=True)
class CircuitSpecs:
    """A summary of a circuit. ``depth`` counts time steps: gates on disjoint qubits share one."""

    n_qubits: int
    n_operations: int
    depth: int
    gate_counts: dict[str, int]
    parameters: list[str]


def schedule(operations: Iterable[Operation], occupied: Callable[[Operation], Iterable[int]]) -> list[int]:
    """The time step of each operation, as early as the qubits it ``occupied`` allow (from step 0)."""
    free_from: dict[int, int] = {}
    steps = []
    for op in operations:
        wires = list(occupied(op))
        step = max((free_from.get(w, 0) for w in wires), default=0)
        free_from.update({w: step + 1 for w in wires})
        steps.append(step)
    return steps


def circuit_specs(n_qubits: int, operations: list[Operation], parameters: list[str]) -> CircuitSpecs:
    """The specs of a circuit's operations; gate counts in order of first use."""
    steps = schedule(operations, lambda op: op.wires)
    return CircuitSpecs(n_qubits, len(operations), max(steps, default=-1) + 1,
                        dict(Counter(op.gate for op in operations)), list(parameters))
