"""Executing circuits for the emulator on qvec's own engine, batched by circuit structure.

Circuits that differ only in their angles (the rows of one batch, typically) run as one
vectorized ``qvec.sim.probs`` call with per-row angle tensors, in chunks of bounded memory.
"""

from __future__ import annotations

from typing import Callable, Iterator, Mapping, Sequence

import torch

from qvec import sim
from qvec.circuit import Circuit
from qvec.errors import BackendError

__all__ = ["SparseDistribution", "JobCanceled", "distributions", "estimated_probabilities", "distribution", "job_bytes"]

# Probabilities below this are left out of an answer (the API omits zero entries).
_ZERO = 1e-14
# How far from 1 a simulated (complex128) distribution may sum before it is refused.
_NORMALIZATION_TOLERANCE = 1e-9
# Dense probabilities (float64) one batch of a job may hold at once; wider circuits run in smaller batches.
_CHUNK_BYTES = 64 * 2**20
# Bytes per amplitude while a batch is simulated: the complex128 state, the next gate's output, the float64
# probabilities and the sparse conversion's masks and indices, with torch's temporaries. Peak RSS growth
# measured for 1-8 random circuits of 20-22 qubits and 200 of 16 stayed under this (at most 75 B per
# amplitude of a chunk beside the results), except a first call's ~100 MiB of one-time set-up.
_WORKING_BYTES_PER_AMPLITUDE = 96
# Bytes per kept (non-zero) entry of a stored result: an int64 basis state and a float64 probability.
_RESULT_BYTES_PER_ENTRY = 16
# Entries written per piece of a streamed JSON answer.
_JSON_PIECE = 2**16


class JobCanceled(BackendError):
    """A job stopped between chunks because it was canceled."""


class SparseDistribution(Mapping[str, float]):
    """A result as the API answers it, ``{"<basis state>": probability}``, stored as two arrays.

    16 bytes per non-zero entry instead of a dict's ~120, and written as JSON piece by piece.
    """

    def __init__(self, states: torch.Tensor, probabilities: torch.Tensor) -> None:
        self.states, self.probabilities = states, probabilities

    def __getitem__(self, key: str) -> float:
        if not (isinstance(key, str) and key.isdigit()):
            raise KeyError(key)
        position = int(torch.searchsorted(self.states, int(key)))
        if position == len(self.states) or int(self.states[position]) != int(key):
            raise KeyError(key)
        return float(self.probabilities[position])

    def __iter__(self) -> Iterator[str]:
        return (str(state) for state in self.states.tolist())

    def __len__(self) -> int:
        return len(self.states)

    @property
    def nbytes(self) -> int:
        return len(self.states) * _RESULT_BYTES_PER_ENTRY

    def json_pieces(self) -> Iterator[str]:
        """The JSON object, in pieces of at most ``_JSON_PIECE`` entries (floats written as ``json.dumps`` does)."""
        yield "{"
        for start in range(0, len(self.states), _JSON_PIECE):
            states = self.states[start:start + _JSON_PIECE].tolist()
            values = self.probabilities[start:start + _JSON_PIECE].tolist()
            yield ("" if start == 0 else ", ") + ", ".join(f'"{s}": {v!r}' for s, v in zip(states, values))
        yield "}"


def _rows_per_chunk(n_qubits: int) -> int:
    return max(1, _CHUNK_BYTES // (2**n_qubits * 8))


def job_bytes(n_qubits: int, n_circuits: int, entries_per_result: int) -> int:
    """The most memory a job may take: one chunk being simulated plus every result stored at its largest.

    ``entries_per_result`` bounds a result's non-zero entries (2**n exact; at most the shots when sampled).
    """
    dimension = 2**n_qubits
    working = min(n_circuits, _rows_per_chunk(n_qubits)) * dimension * _WORKING_BYTES_PER_AMPLITUDE
    return working + n_circuits * min(dimension, entries_per_result) * _RESULT_BYTES_PER_ENTRY


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
    size = _rows_per_chunk(first.n_qubits)
    for start in range(0, len(members), size):
        yield members[start:start + size]


def distributions(circuits: Sequence[Circuit],
                  estimate: Callable[[torch.Tensor], torch.Tensor] | None = None,
                  canceled: Callable[[], bool] = lambda: False) -> list[SparseDistribution]:
    """Each circuit's answer, in order: its exact probabilities, or ``estimate`` of them (shot frequencies).

    Circuits sharing a structure run as one batch, in chunks, and each row becomes its (sparse)
    answer at once, so that a job of many wide circuits never holds all their dense rows.
    ``canceled`` is asked before each chunk: a canceled job stops there (``JobCanceled``).
    """
    groups: dict[tuple, list[int]] = {}
    for index, circuit in enumerate(circuits):
        groups.setdefault((circuit.n_qubits, _structure(circuit)), []).append(index)
    answers: dict[int, SparseDistribution] = {}
    for members in groups.values():
        for chunk in _chunks(circuits, members):
            if canceled():
                raise JobCanceled("the job was canceled while it ran")
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


def distribution(probabilities: torch.Tensor) -> SparseDistribution:
    """``{"<basis state>": probability}`` without zero entries (bit i of a key is qubit i).

    ``BackendError`` unless the probabilities sum to 1: an answer is computed, never empty or partial.
    """
    total = float(probabilities.sum()) if probabilities.numel() else 0.0
    if not abs(total - 1.0) <= _NORMALIZATION_TOLERANCE:
        raise BackendError(f"the simulated probabilities sum to {total!r}, not 1")
    states = (probabilities > _ZERO).nonzero().flatten()
    return SparseDistribution(states.clone(), probabilities[states].clone())
