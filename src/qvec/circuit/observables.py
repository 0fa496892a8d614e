"""Pauli-string observables such as ``"Z0"``, ``"X1 Y3"`` or ``"Z0 Z1 Z2"``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qvec.errors import InputError

__all__ = ["PauliString", "parse_observable"]

_TERM = re.compile(r"([IXYZ])(\d+)\Z")


@dataclass(frozen=True, order=True)
class PauliString:
    """A product of single-qubit Paulis, stored as sorted ``(qubit, letter)`` pairs (identity omitted)."""

    terms: tuple[tuple[int, str], ...]

    def __str__(self) -> str:
        return " ".join(f"{letter}{qubit}" for qubit, letter in self.terms) or "I"

    @property
    def wires(self) -> tuple[int, ...]:
        return tuple(qubit for qubit, _ in self.terms)

    def masks(self) -> tuple[int, int, int]:
        """Bit masks (x, y, z) of the qubits carrying X, Y and Z."""
        masks = {"X": 0, "Y": 0, "Z": 0}
        for qubit, letter in self.terms:
            masks[letter] |= 1 << qubit
        return masks["X"], masks["Y"], masks["Z"]


def parse_observable(text: str | PauliString, n_qubits: int) -> PauliString:
    """Parse ``"X1 Y3"`` into a PauliString, checking every qubit against ``n_qubits``."""
    if isinstance(text, PauliString):
        terms = text.terms
    else:
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"observable must be a Pauli string such as 'Z0 X1', got {text!r}")
        terms = []
        for token in text.split():
            match = _TERM.match(token.upper())
            if match is None:
                raise InputError(f"bad term {token!r} in observable {text!r}: expected a letter I, X, Y or Z and a qubit index, such as 'Z0'")
            if match.group(1) != "I":
                terms.append((int(match.group(2)), match.group(1)))
    qubits = [q for q, _ in terms]
    for qubit in qubits:
        if qubit >= n_qubits:
            raise InputError(f"observable {str(text)!r} acts on qubit {qubit}, but the circuit has {n_qubits} qubit(s)")
    if len(set(qubits)) != len(qubits):
        raise InputError(f"observable {str(text)!r} names a qubit twice")
    return PauliString(tuple(sorted(terms)))
