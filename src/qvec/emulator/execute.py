"""Executing circuits for the emulator on qvec's own engine, batched by circuit structure.

Circuits that differ only in their angles (the rows of one batch, typically) run as one
vectorized ``qvec.sim.probs`` call with per-row angle tensors, in chunks of bounded memory.
"""

from __future__ import annotations

from typing import Callable, Iterator, Sequence

import torch

from qvec import sim
from qvec.circuit import Circuit
from qvec.errors import BackendError

__all__ = ["distributions", "estimated_probabilities", "distribution"]

# Probabilities below this are left out of an answer (the API omits zero entries).
_ZERO = 1e-14
# How far from 1 a simulated (complex128) distribution may sum before it is refused.
_NORMALIZATION_TOLERANCE = 1e-9
# Dense probabilities (float64) one batch of a job may hold at once; wider circuits run in smaller batches.
_CHUNK_BYTES = 64 * 2**20


def _structure(circuit: Circuit) -> tuple:
    return tuple((op.gate, op.wires, len(op.angles)) for op in circuit)


def _run_group(circuits: Sequence[Circuit]) -> torch.Tensor:
    """Probabilities ``[len(circuits), 2**n]`` of circuits sharing one structure, in one pass.

    A structure without angles is simulated once and that row serves every copy of it.
    """
    first = circuits[0]
    template, values, k = Circuit(first.n_qubits), {}, 0
    for position, op in enumerate(first):
        names = []
        for slot in range(len(op.angles)):
            name = f"a{k}"
            values[name] = torch.tensor([float(c.operations[position].angles[slot]) for c in circuits], dtype=torch.float64)
            names.append(name)
            k += 1
        template.append(op.gate, op.wires, names)
    rows = sim.probs(template, values or None, dtype=torch.complex128).to(torch.float64)
    return rows.reshape(-1, 2**first.n_qubits).expand(len(circuits), -1)


def _chunks(circuits: Sequence[Circuit], members: list[int]) -> Iterator[list[int]]:
    """``members`` (indices of circuits of one structure) in runs whose probabilities fit ``_CHUNK_BYTES``."""
    first = circuits[members[0]]
    if not any(op.angles for op in first):  # simulated once, whatever the number of copies
        yield members
        return
    size = max(1, _CHUNK_BYTES // (2**first.n_qubits * 8))
    for start in range(0, len(members), size):
        yield members[start:start + size]


def distributions(circuits: Sequence[Circuit],
                  estimate: Callable[[torch.Tensor], torch.Tensor] | None = None) -> list[dict[str, float]]:
    """Each circuit's answer, in order: its exact probabilities, or ``estimate`` of them (shot frequencies).

    Circuits sharing a structure run as one batch, in chunks, and each row becomes its (sparse)
    answer at once, so that a job of many wide circuits never holds all their dense rows.
    """
    groups: dict[tuple, list[int]] = {}
    for index, circuit in enumerate(circuits):
        groups.setdefault((circuit.n_qubits, _structure(circuit)), []).append(index)
    answers: dict[int, dict[str, float]] = {}
    for members in groups.values():
        for chunk in _chunks(circuits, members):
            for index, row in zip(chunk, _run_group([circuits[i] for i in chunk]), strict=True):
                answers[index] = distribution(row if estimate is None else estimate(row))
    return [answers[index] for index in range(len(circuits))]


def estimated_probabilities(exact: torch.Tensor, shots: int, generator: torch.Generator) -> torch.Tensor:
    """Frequencies of ``shots`` draws from ``exact``: what a QPU or a noisy simulator reports.

    Inverse-CDF sampling, so that any width works (``torch.multinomial`` stops at 2**24 categories).
    """
    cumulative = exact.clamp_min(0).cumsum(0)
    uniforms = torch.rand(shots, dtype=cumulative.dtype, generator=generator) * cumulative[-1]
    draws = torch.searchsorted(cumulative, uniforms, right=True).clamp_max(exact.numel() - 1)
    return torch.bincount(draws, minlength=exact.numel()).to(torch.float64) / shots


def distribution(probabilities: torch.Tensor) -> dict[str, float]:
    """``{"<basis state>": probability}`` without zero entries (bit i of a key is qubit i).

    ``BackendError`` unless the probabilities sum to 1: an answer is computed, never empty or partial.
    """
    total = float(probabilities.sum()) if probabilities.numel() else 0.0
    if not abs(total - 1.0) <= _NORMALIZATION_TOLERANCE:
        raise BackendError(f"the simulated probabilities sum to {total!r}, not 1")
    indices = (probabilities > _ZERO).nonzero().flatten().tolist()
    values = probabilities[indices].tolist()
    return {str(i): v for i, v in zip(indices, values)}
