"""What to measure in a batch: expectation values, probabilities or samples (plain frozen values)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, Union

from qvec.circuit.observables import Hamiltonian, Observable, PauliString
from qvec.errors import InputError
from qvec.sim.sampling import check_shots

__all__ = ["Expval", "Measurement", "Probs", "Samples"]


@dataclass(frozen=True)
class Expval:
    """Expectation values ``[B, len(observables)]`` of Pauli strings or weighted sums of them."""

    observables: tuple[Observable, ...]

    def __init__(self, observables: Observable | Sequence[Observable]) -> None:
        if isinstance(observables, (str, PauliString, Hamiltonian)):
            observables = (observables,)
        if isinstance(observables, (bytes, bytearray)) or not isinstance(observables, Sequence):
            raise InputError(f"observables must be a list of observables such as ['Z0', 'X1'], "
                             f"got {type(observables).__name__}")
        if not observables:
            raise InputError("expval needs at least one observable, such as ['Z0'], got none")
        object.__setattr__(self, "observables", tuple(observables))


@dataclass(frozen=True)
class Probs:
    """Basis-state probabilities ``[B, 2**n]``, qubit 0 the least significant bit."""


@dataclass(frozen=True)
class Samples:
    """``shots`` measured basis states per row, ``[B, shots]`` int64."""

    shots: int

    def __post_init__(self) -> None:
        check_shots(self.shots)


Measurement = Union[Expval, Probs, Samples]
