"""Decoding IonQ probabilities (little-endian integer keys) into tensors, and counts from them."""

from __future__ import annotations

from typing import Any, Mapping

import torch

from qvec.errors import IonQError

__all__ = ["probability_vector", "split_results", "sample_counts", "estimate_counts"]


def probability_vector(distribution: Mapping[str, float], n_qubits: int) -> torch.Tensor:
    """``{"0": 0.5, "3": 0.5}`` -> a float64 tensor ``[2**n]`` (bit i of a key is qubit i).

    Keys over more qubits than the circuit has (a packed job is as wide as its widest circuit)
    are folded onto the circuit's qubits, the extra ones being idle in ``|0>``.
    """
    size = 2**n_qubits
    vector = torch.zeros(size, dtype=torch.float64)
    if not distribution:
        return vector
    keys = torch.tensor([int(k) for k in distribution], dtype=torch.int64)
    values = torch.tensor([float(v) for v in distribution.values()], dtype=torch.float64)
    return vector.index_add_(0, keys % size, values)


def split_results(raw: Mapping[str, Any], n_circuits: int, job_id: str) -> list[Mapping[str, float]]:
    """Per-circuit distributions of one job's answer: aggregated children keep submission order."""
    if n_circuits == 1 and all(isinstance(v, (int, float)) for v in raw.values()):
        return [raw]
    children = list(raw.values())
    if len(children) != n_circuits or not all(isinstance(c, Mapping) for c in children):
        raise IonQError(f"job {job_id} returned {len(children)} result(s) for {n_circuits} circuit(s)")
    return children


def sample_counts(probabilities: torch.Tensor, shots: int, generator: torch.Generator) -> dict[int, int]:
    """Counts of ``shots`` draws from exact probabilities, as IonQ's clients sample the ideal simulator."""
    draws = torch.multinomial(probabilities.clamp_min(0), shots, replacement=True, generator=generator)
    counts = torch.bincount(draws, minlength=probabilities.numel())
    return {int(i): int(counts[i]) for i in counts.nonzero().flatten()}


def estimate_counts(probabilities: torch.Tensor, shots: int) -> dict[int, int]:
    """Counts behind probabilities a QPU or noisy simulator estimated from ``shots``."""
    counts = torch.round(probabilities * shots).to(torch.int64)
    return {int(i): int(counts[i]) for i in counts.nonzero().flatten()}
