"""Decoding IonQ results into validated sparse distributions, and counts from them.

A circuit's answer maps basis states (decimal integer keys, bit i of a key is qubit i) to
probabilities. It stays sparse, the states with nonzero probability and their values, until a dense
``[2**n]`` tensor is asked for: at 29 qubits a dense float64 vector is 4 GiB, while an answer
usually holds a handful of states. Sampling, counts and parity expectations work on the sparse form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from qvec.circuit.bases import parity_signs
from qvec.errors import IonQError
from qvec.sim.memory import check_fits, resolve_device

__all__ = [
    "SUM_TOLERANCE", "SparseDistribution", "decode_distribution", "split_results", "check_dense_size",
    "sample_counts", "estimate_counts",
]

# How far the probabilities of one answer may sum from 1. A QPU's estimated frequencies and a
# simulator's probabilities sum to 1 up to rounding (float32 engines, rounded frequencies, tiny
# entries left out); a missing or truncated answer misses by far more.
SUM_TOLERANCE = 1e-4
# Keys longer than this many digits exceed any target's width (and int64).
_MAX_KEY_DIGITS = 18
# Offending keys quoted in an error message.
_QUOTED = 3


@dataclass(frozen=True, eq=False)
class SparseDistribution:
    """Probabilities of ``states`` (int64, ascending, unique) over ``n_qubits`` qubits; every other state has 0."""

    n_qubits: int
    states: torch.Tensor
    probabilities: torch.Tensor

    @classmethod
    def from_counts(cls, counts: Mapping[int, int], n_qubits: int) -> SparseDistribution:
        """The frequencies of ``counts`` (``{basis state: count}``)."""
        states = torch.tensor(sorted(counts), dtype=torch.int64)
        numbers = torch.tensor([counts[int(s)] for s in states], dtype=torch.float64)
        return cls(n_qubits, states, numbers / numbers.sum())

    def dense(self, dtype: torch.dtype = torch.float64, device: Any = None) -> torch.Tensor:
        """The full probability vector ``[2**n]``, refused with an ``InputError`` if it exceeds the memory budget."""
        check_dense_size(1, self.n_qubits, dtype, device)
        vector = torch.zeros(2**self.n_qubits, dtype=dtype, device=device)
        return vector.index_put_((self.states.to(vector.device),), self.probabilities.to(vector))

    def parity_expectation(self, mask: int) -> float:
        """``<(-1)**(parity of the qubits in mask)>``: a Z-string expectation, without a dense vector."""
        return float((parity_signs(self.states, mask).to(torch.float64) * self.probabilities).sum())

    def __repr__(self) -> str:
        return f"SparseDistribution(n_qubits={self.n_qubits}, nonzero={self.states.numel()})"


def check_dense_size(rows: int, n_qubits: int, dtype: torch.dtype, device: Any = None) -> None:
    """Raise ``InputError`` before allocating ``[rows, 2**n_qubits]`` of ``dtype`` beyond the memory budget."""
    needed = rows * 2**n_qubits * torch.empty((), dtype=dtype).element_size()
    check_fits(needed, f"dense probabilities of {rows} circuit(s) of {n_qubits} qubits", resolve_device(device),
               "use expval, sample, or run_circuits(...).distributions, which stay sparse,")


def decode_distribution(raw: Any, n_qubits: int, job_qubits: int, *, exact: bool, where: str) -> SparseDistribution:
    """Validate one circuit's answer (``where`` names its job and circuit in errors) and keep it sparse.

    Keys must be decimal integers below ``2**job_qubits`` (a packed job is as wide as its widest
    circuit), values finite and non-negative, summing to 1 within ``SUM_TOLERANCE``. The qubits
    beyond the circuit's ``n_qubits`` are idle in ``|0>``: an ideal simulator (``exact``) never sets
    them, so a key that does is an error; on a QPU or a noise model readout errors can set them, and
    the circuit's distribution is the marginal over its own qubits.
    """
    if not isinstance(raw, Mapping):
        raise IonQError(f"{where}: the result is not a map of basis states to probabilities ({type(raw).__name__})")
    if not raw:
        raise IonQError(f"{where}: the result is empty")
    states, values = _checked_entries(raw, job_qubits, where)
    total = math.fsum(values)
    if abs(total - 1) > SUM_TOLERANCE:
        raise IonQError(f"{where}: the probabilities sum to {total:.6g}, not 1 (tolerance {SUM_TOLERANCE:g})")
    return _sparse(states, values, n_qubits, exact, where)


def _checked_entries(raw: Mapping[Any, Any], job_qubits: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    """The answer's states (int64) and values (float64), or an error quoting the keys or values that break the format."""
    entries = _plain_entries(raw, 2**job_qubits)
    return entries if entries is not None else _entries_one_by_one(raw, job_qubits, where)


def _plain_entries(raw: Mapping[Any, Any], size: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The states and values when every key is a plain decimal below ``size`` and every value a finite
    non-negative float or int, checked on whole arrays; ``None`` when any is not (then each is looked at)."""
    keys, values = list(raw), list(raw.values())
    if set(map(type, keys)) != {str} or not set(map(type, values)) <= {float, int}:
        return None
    digits = "".join(keys)
    if not (digits.isascii() and digits.isdigit() and 0 < min(map(len, keys)) and max(map(len, keys)) <= _MAX_KEY_DIGITS):
        return None
    states = np.fromiter(map(int, keys), dtype=np.int64, count=len(keys))
    try:
        numbers = np.fromiter(values, dtype=np.float64, count=len(values))
    except OverflowError:  # an int beyond float range
        return None
    if int(states.max()) >= size or not (np.isfinite(numbers).all() and (numbers >= 0).all()):
        return None
    return states, numbers


def _entries_one_by_one(raw: Mapping[Any, Any], job_qubits: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Each entry checked on its own, to quote the keys and values that break the format."""
    states, values, bad_keys, bad_values = [], [], [], []
    for key, value in raw.items():
        state = _basis_state(key, 2**job_qubits)
        if state is None:
            bad_keys.append(repr(key))
        elif not _is_probability(value):
            bad_values.append(f"{key!r}: {value!r}")
        else:
            states.append(state)
            values.append(float(value))
    if bad_keys:
        raise IonQError(f"{where}: {len(bad_keys)} key(s) are not basis states of the job's {job_qubits} qubits "
                        f"(decimal integers below {2**job_qubits}): {_quote(bad_keys)}")
    if bad_values:
        raise IonQError(f"{where}: {len(bad_values)} probabilit(ies) are not finite non-negative numbers: "
                        f"{_quote(bad_values)}")
    return np.array(states, dtype=np.int64), np.array(values, dtype=np.float64)


def _is_probability(value: Any) -> bool:
    """A finite non-negative int or float (not a bool; an int beyond float range is not finite)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value) and value >= 0
    except OverflowError:
        return False


def _basis_state(key: Any, size: int) -> int | None:
    """The integer a key names if it is a plain decimal below ``size``, else ``None``."""
    if not (isinstance(key, str) and key.isascii() and key.isdigit() and len(key) <= _MAX_KEY_DIGITS):
        return None
    state = int(key)
    return state if state < size else None


def _sparse(states: np.ndarray, values: np.ndarray, n_qubits: int, exact: bool, where: str) -> SparseDistribution:
    """Nonzero entries in ascending state order, marginalized onto the circuit's qubits when noise allows."""
    keep = values > 0
    states, values = states[keep], values[keep]
    beyond = states >> n_qubits != 0
    if not beyond.any():  # keys are unique: sorting is all there is to do
        order = np.argsort(states, kind="stable")
        return SparseDistribution(n_qubits, torch.from_numpy(states[order]), torch.from_numpy(values[order]))
    if exact:
        raise IonQError(f"{where}: state(s) {_quote(states[beyond].tolist())} set qubits beyond the circuit's "
                        f"{n_qubits}, which the ideal simulator leaves in |0>")
    unique, inverse = np.unique(states & (2**n_qubits - 1), return_inverse=True)
    summed = np.bincount(inverse.reshape(-1), weights=values, minlength=unique.size)
    return SparseDistribution(n_qubits, torch.from_numpy(unique), torch.from_numpy(summed))


def _quote(items: Sequence[Any]) -> str:
    """The first few items, and how many more there are."""
    shown = ", ".join(str(item) for item in items[:_QUOTED])
    return shown + (f" and {len(items) - _QUOTED} more" if len(items) > _QUOTED else "")


def split_results(raw: Mapping[str, Any], n_circuits: int, job_id: str,
                  child_job_ids: Sequence[str] | None = None) -> list[Any]:
    """Per-circuit answers of one job, in submission order (validated by ``decode_distribution`` later).

    A multi-circuit job's aggregated answer is keyed by child job id in submission order; when the
    job lists ``child_job_ids``, the keys must be exactly those ids in that order.
    """
    if not isinstance(raw, Mapping):
        raise IonQError(f"job {job_id} returned a result that is not a JSON object ({type(raw).__name__})")
    if n_circuits == 1 and not child_job_ids and all(not isinstance(v, Mapping) for v in raw.values()):
        return [raw]
    keys = list(raw)
    if child_job_ids is not None:
        _check_children(keys, [str(c) for c in child_job_ids], job_id)
    if len(keys) != n_circuits:
        raise IonQError(f"job {job_id} returned {len(keys)} result(s) for {n_circuits} circuit(s)")
    return list(raw.values())


def _check_children(keys: list[str], children: list[str], job_id: str) -> None:
    """Fail loudly when an aggregated answer's keys are not the job's child ids in order."""
    if keys == children:
        return
    position = next((i for i, (k, c) in enumerate(zip(keys, children)) if k != c), min(len(keys), len(children)))
    key = repr(keys[position]) if position < len(keys) else "none"
    child = repr(children[position]) if position < len(children) else "none"
    raise IonQError(f"job {job_id}: the aggregated result's {len(keys)} key(s) do not match its {len(children)} "
                    f"child job id(s) in order (at position {position}: key {key}, child {child}); "
                    "its results cannot be matched to circuits")


def sample_counts(distribution: SparseDistribution, shots: int, generator: torch.Generator) -> dict[int, int]:
    """Counts of ``shots`` draws from exact probabilities, as IonQ's clients sample the ideal simulator.

    Draws are taken over the nonzero states only (inverse transform of the cumulative sums), so the
    size of the state space never matters.
    """
    cumulative = torch.cumsum(distribution.probabilities, 0)
    draws = torch.rand(shots, generator=generator, dtype=torch.float64) * cumulative[-1]
    picks = torch.searchsorted(cumulative, draws, right=True).clamp_max(cumulative.numel() - 1)
    counts = torch.bincount(picks, minlength=cumulative.numel())
    drawn = counts.nonzero().flatten()
    return dict(zip(distribution.states[drawn].tolist(), counts[drawn].tolist()))


def estimate_counts(distribution: SparseDistribution, shots: int) -> dict[int, int]:
    """Counts behind probabilities a QPU or noisy simulator estimated from ``shots``.

    Largest remainder: each state gets ``floor(p * shots)`` and the shots left over go to the
    largest fractional parts (ties to the lower state), so the counts always sum to ``shots`` and
    each is within 1 of ``p * shots``.
    """
    ideal = distribution.probabilities / distribution.probabilities.sum() * shots
    counts = ideal.floor()
    left_over = shots - int(counts.sum())
    counts[torch.sort(ideal - counts, descending=True, stable=True).indices[:left_over]] += 1
    counted = counts.nonzero().flatten()
    return dict(zip(distribution.states[counted].tolist(), counts[counted].to(torch.int64).tolist()))
