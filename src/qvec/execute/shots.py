"""Estimates from a finite number of shots, drawn from any backend that runs qubit batches.

Expectation values are measured as hardware measures them: the Pauli strings are grouped into
qubit-wise commuting bases, each basis is one rotated circuit sampled ``shots`` times per row, and
a string's estimate is the mean of its parity over those samples (variance ``(1 - <P>**2) / shots``).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch

from qvec.backends.base import RunsQubitBatches
from qvec.circuit import Circuit
from qvec.circuit.bases import measurement_groups, parity_signs, rotated_to_basis
from qvec.circuit.observables import Observable, expand_observables
from qvec.circuit.parameters import ParamValue
from qvec.sim.memory import check_fits
from qvec.sim.sampling import check_seed
from qvec.sim.simulate import real_dtype

__all__ = ["sampled_expval", "sampled_probs"]

Params = Mapping[str, ParamValue] | None


def _group_seeds(seed: int | None, count: int) -> list[int | None]:
    """One seed per measurement basis, all drawn from ``seed`` (so that no two bases share a stream)."""
    if check_seed(seed) is None:
        return [None] * count
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 2**62, (count,), generator=generator).tolist()


def sampled_expval(backend: RunsQubitBatches, circuit: Circuit, observables: Sequence[Observable], params: Params, *,
                   shots: int, seed: int | None, dtype: torch.dtype, device: Any) -> torch.Tensor:
    """Expectation values ``[B, len(observables)]`` estimated from ``shots`` samples per row and basis."""
    terms = expand_observables(list(observables), circuit.n_qubits)
    groups = measurement_groups(terms.strings)
    values: torch.Tensor | None = None
    for (basis, members), group_seed in zip(groups, _group_seeds(seed, len(groups))):
        outcomes = backend.sample(rotated_to_basis(circuit, basis), shots, params, seed=group_seed, dtype=dtype,
                                  device=device)
        if values is None:
            values = torch.empty(outcomes.shape[0], len(terms.strings), dtype=torch.float64, device=outcomes.device)
        for index in members:
            values[:, index] = parity_signs(outcomes, terms.strings[index]).to(torch.float64).mean(dim=1)
    return terms.combine(values).to(dtype=real_dtype(dtype), device=device)


def sampled_probs(backend: RunsQubitBatches, circuit: Circuit, params: Params, *, shots: int, seed: int | None,
                  dtype: torch.dtype, device: Any) -> torch.Tensor:
    """Basis-state frequencies ``[B, 2**n]`` over ``shots`` samples per row."""
    outcomes = backend.sample(circuit, shots, params, seed=seed, dtype=dtype, device=device)
    rows, real = outcomes.shape[0], real_dtype(dtype)
    check_fits(rows * 2**circuit.n_qubits * real.itemsize, f"{circuit.n_qubits} qubits x B = {rows} (frequencies)",
               outcomes.device, "lower the qubits or the batch, or ask for samples instead")
    frequencies = torch.zeros(outcomes.shape[0], 2**circuit.n_qubits, dtype=real, device=outcomes.device)
    frequencies.scatter_add_(1, outcomes, torch.ones_like(outcomes, dtype=frequencies.dtype))
    return (frequencies / shots).to(device=device)
