"""Readouts of row states: basis-state probabilities and Pauli-string expectation values.

For a Pauli string P with X/Y mask m, ``P|j> = phase(j) |j xor m>``, so
``<psi|P|psi> = sum_j conj(psi[j xor m]) phase(j) psi[j]``; strings sharing a mask share one
elementwise product and are read out together by one matrix product. Weighted sums of strings
(``observable_expectations``) read every distinct string of every sum from the same state once.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Sequence

import torch

from qvec.circuit.observables import ObservableTerms, PauliString
from qvec.tensor_cache import tensor_cache

__all__ = ["flip_index", "observable_expectations", "pauli_expectations", "phase_table", "probabilities"]


def probabilities(state: torch.Tensor) -> torch.Tensor:
    """``|psi|^2`` as a real tensor ``[N, 2**n]``."""
    return torch.view_as_real(state).square().sum(-1)


@tensor_cache(maxsize=128)
def phase_table(strings: tuple[PauliString, ...], n_qubits: int) -> torch.Tensor:
    """``phase(j)`` for each string as columns ``[2**n, k]`` (complex128, on the CPU)."""
    index = torch.arange(2**n_qubits)
    columns = []
    for string in strings:
        _, y_mask, z_mask = string.masks()
        parity = torch.zeros_like(index)
        bits = index & (y_mask | z_mask)
        while bool(bits.any()):
            parity ^= bits & 1
            bits = bits >> 1
        sign = 1.0 - 2.0 * parity.double()
        columns.append(sign.to(torch.complex128) * (1j ** bin(y_mask).count("1")))
    return torch.stack(columns, dim=1)


def flip_index(n_qubits: int, mask: int, device: torch.device) -> torch.Tensor:
    """The basis index each index maps to when the X/Y part of a Pauli string (``mask``) flips its bits."""
    return torch.arange(2**n_qubits, device=device) ^ mask


def pauli_expectations(state: torch.Tensor, strings: Sequence[PauliString], n_qubits: int) -> torch.Tensor:
    """Expectation values ``[N, k]`` (real) of Pauli strings on row states ``[N, 2**n]``."""
    real = torch.float64 if state.dtype == torch.complex128 else torch.float32
    by_mask: dict[int, list[int]] = defaultdict(list)
    for position, string in enumerate(strings):
        x_mask, y_mask, _ = string.masks()
        by_mask[x_mask | y_mask].append(position)
    columns: dict[int, torch.Tensor] = {}
    for mask, positions in by_mask.items():
        table = phase_table(tuple(strings[p] for p in positions), n_qubits).to(state.device)
        if mask == 0:
            values = probabilities(state) @ table.real.to(real)
        else:
            product = state.index_select(1, flip_index(n_qubits, mask, state.device)).conj() * state
            values = (product @ table.to(state.dtype)).real
        if len(by_mask) == 1:
            return values
        columns.update({p: values[:, i] for i, p in enumerate(positions)})
    return torch.stack([columns[p] for p in range(len(strings))], dim=1)


def observable_expectations(state: torch.Tensor, terms: ObservableTerms, n_qubits: int) -> torch.Tensor:
    """Expectation values ``[N, m]`` of observables (Pauli strings or weighted sums), one pass over the state."""
    return terms.combine(pauli_expectations(state, terms.strings, n_qubits))
