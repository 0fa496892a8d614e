"""Measuring Pauli strings in the computational basis: group them by basis, rotate, read parities.

A backend that returns basis-state outcomes (IonQ, or the local simulator with finite shots)
measures qubit-wise commuting strings together: one basis-rotated circuit per group, and each
string's value is the parity of its qubits in that circuit's outcomes.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import torch

from .circuit import Circuit
from .observables import PauliString

__all__ = ["MeasurementGroup", "measurement_groups", "parity_signs", "qubit_mask", "rotated_to_basis"]

MeasurementGroup = tuple[dict[int, str], list[int]]


def measurement_groups(paulis: Sequence[PauliString]) -> list[MeasurementGroup]:
    """Strings grouped so that each group is measured in one basis (qubit-wise commuting): per group,
    the basis (qubit -> letter) and the indices of its strings, first fit in order."""
    groups: list[MeasurementGroup] = []
    for index, pauli in enumerate(paulis):
        for basis, members in groups:
            if all(basis.get(q, letter) == letter for q, letter in pauli.terms):
                basis.update(pauli.terms)
                members.append(index)
                break
        else:
            groups.append((dict(pauli.terms), [index]))
    return groups


def rotated_to_basis(circuit: Circuit, basis: Mapping[int, str]) -> Circuit:
    """The circuit followed by the rotation that measures ``basis`` in Z (X: H; Y: S-dagger then H)."""
    rotated = circuit.copy()
    for qubit, letter in sorted(basis.items()):
        if letter == "Y":
            rotated.sdg(qubit)
        if letter in ("X", "Y"):
            rotated.h(qubit)
    return rotated


def parity_signs(outcomes: torch.Tensor, mask: int) -> torch.Tensor:
    """``(-1)**(parity of the bits in mask)`` for each basis-state integer in ``outcomes`` (int64): the value of
    the Pauli string on those qubits in each outcome of a circuit rotated to its basis."""
    bits, shift = outcomes & mask, 1
    while shift < mask.bit_length():  # fold the halves together: bit 0 ends up the parity of them all
        shift *= 2
    while shift > 1:
        shift //= 2
        bits = bits ^ (bits >> shift)
    return 1 - 2 * (bits & 1)


def qubit_mask(pauli: PauliString) -> int:
    """The bit mask of the qubits a Pauli string acts on."""
    return sum(1 << q for q in pauli.wires)
