"""Observables: Pauli strings such as ``"Z0"``, ``"X1 Y3"``, and weighted sums of them.

A weighted sum is a ``Hamiltonian`` or a string such as ``"0.5*Z0 Z1 - 0.2*X0"``.
``expand_observables`` turns a list of observables into the distinct Pauli strings to measure
and the weights that combine their expectation values, so that a backend evaluates each string
once (one state locally, one job per measurement basis remotely) whatever sums it appears in.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass
from typing import Iterable, Sequence, Union

import torch

from qvec.errors import InputError

__all__ = ["Hamiltonian", "Observable", "ObservableTerms", "PauliString", "expand_observables", "parse_observable"]

_TERM = re.compile(r"([IXYZ])(\d+)\Z")
_NUMBER = r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
# One term of a weighted sum: an optional sign, an optional coefficient (with an optional '*'), Paulis.
_WEIGHTED_TERM = re.compile(rf"\s*(?P<sign>[+-])?\s*(?:(?P<coefficient>{_NUMBER})\s*(?:\*\s*)?)?(?P<paulis>(?:[IXYZixyz]\d+\s*)*)")


@dataclass(frozen=True, order=True)
class PauliString:
    """A product of single-qubit Paulis, stored as sorted ``(qubit, letter)`` pairs (identity omitted)."""

    terms: tuple[tuple[int, str], ...]

    def __hash__(self) -> int:  # kept: strings key the engines' plan caches, hashed on every call
        try:
            return self._hash
        except AttributeError:
            object.__setattr__(self, "_hash", hash(self.terms))
            return self._hash

    def __reduce__(self) -> tuple:  # without the kept hash: string hashes differ between processes
        return (PauliString, (self.terms,))

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


def _pauli_terms(text: object) -> tuple[tuple[int, str], ...]:
    """``"X1 Y3"`` as sorted ``(qubit, letter)`` pairs, checking the syntax and repeated qubits."""
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
    if len(set(qubits)) != len(qubits):
        raise InputError(f"observable {text!r} names a qubit twice")
    return tuple(sorted(terms))


def _check_width(string: PauliString, n_qubits: int, shown: object) -> PauliString:
    for qubit in string.wires:
        if qubit >= n_qubits:
            raise InputError(f"observable {str(shown)!r} acts on qubit {qubit}, but the circuit has {n_qubits} qubit(s)")
    if len(set(string.wires)) != len(string.wires):
        raise InputError(f"observable {str(shown)!r} names a qubit twice")
    return string


def parse_observable(text: str | PauliString, n_qubits: int) -> PauliString:
    """Parse ``"X1 Y3"`` into a PauliString, checking every qubit against ``n_qubits``."""
    string = text if isinstance(text, PauliString) else PauliString(_pauli_terms(text))
    return _check_width(string, n_qubits, text)


def _coefficient(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise InputError(f"the coefficient of {what} must be a finite real number, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Hamiltonian:
    """A weighted sum of Pauli strings, ``sum_k c_k P_k``: an observable whose expectation value is
    ``sum_k c_k <P_k>``. Build one from ``(coefficient, string)`` pairs or a string such as
    ``"0.5*Z0 Z1 - 0.2*X0"`` (``Hamiltonian.parse``); ``+``, ``-`` and ``*`` by a number combine them.
    Equal strings are merged, in order of first appearance.
    """

    terms: tuple[tuple[float, PauliString], ...]

    def __init__(self, terms: Iterable[tuple[float, str | PauliString]]) -> None:
        merged: dict[PauliString, float] = {}
        for pair in terms:
            if not isinstance(pair, tuple) or len(pair) != 2:
                raise InputError(f"a Hamiltonian term is a (coefficient, Pauli string) pair, got {pair!r}")
            coefficient, string = pair
            string = string if isinstance(string, PauliString) else PauliString(_pauli_terms(string))
            merged[string] = merged.get(string, 0.0) + _coefficient(coefficient, f"term {str(string)!r}")
        if not merged:
            raise InputError("a Hamiltonian needs at least one term")
        object.__setattr__(self, "terms", tuple((c, s) for s, c in merged.items()))

    @classmethod
    def parse(cls, text: str) -> Hamiltonian:
        """``"0.5*Z0 Z1 - 0.2*X0"``, ``"Z0 + Z1"``, ``"2 X0 X1 - 1"`` (a bare number is a multiple of the identity)."""
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"observable must be a weighted sum of Pauli strings such as '0.5*Z0 Z1 - 0.2*X0', got {text!r}")
        terms, position = [], 0
        while position < len(text) and text[position:].strip():
            match = _WEIGHTED_TERM.match(text, position)
            empty = not match.group("coefficient") and not match.group("paulis").strip()
            if empty or (terms and not match.group("sign")):
                start = len(text) - len(text[position:].lstrip()) + 1
                raise InputError(f"bad observable {text!r} at character {start}: expected a term such as "
                                 "'+ 0.5*Z0 Z1' (a sign, a coefficient and Paulis such as Z0)")
            sign = -1.0 if match.group("sign") == "-" else 1.0
            coefficient = float(match.group("coefficient")) if match.group("coefficient") else 1.0
            paulis = match.group("paulis").strip() or "I0"
            terms.append((sign * coefficient, PauliString(_pauli_terms(paulis))))
            position = match.end()
        return cls(terms)

    def __str__(self) -> str:
        parts = []
        for index, (coefficient, string) in enumerate(self.terms):
            sign = "-" if coefficient < 0 else ("+" if index else "")
            parts.append(f"{sign} {abs(coefficient):.6g}*{string}" if index else f"{sign}{abs(coefficient):.6g}*{string}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"Hamiltonian({str(self)!r})"

    def __add__(self, other: object) -> Hamiltonian:
        other = _as_hamiltonian(other)
        return NotImplemented if other is None else Hamiltonian([*self.terms, *other.terms])

    def __radd__(self, other: object) -> Hamiltonian:
        if isinstance(other, numbers.Number) and other == 0:  # sum() starts from 0
            return self
        return self.__add__(other)

    def __neg__(self) -> Hamiltonian:
        return self * -1.0

    def __sub__(self, other: object) -> Hamiltonian:
        other = _as_hamiltonian(other)
        return NotImplemented if other is None else self + (-other)

    def __rsub__(self, other: object) -> Hamiltonian:
        other = _as_hamiltonian(other)
        return NotImplemented if other is None else other - self

    def __mul__(self, factor: object) -> Hamiltonian:
        if isinstance(factor, bool) or not isinstance(factor, numbers.Real):
            return NotImplemented
        scale = _coefficient(factor, "a Hamiltonian product")
        return Hamiltonian([(scale * c, s) for c, s in self.terms])

    __rmul__ = __mul__

    def __truediv__(self, divisor: object) -> Hamiltonian:
        if isinstance(divisor, bool) or not isinstance(divisor, numbers.Real) or divisor == 0:
            return NotImplemented
        return self * (1.0 / float(divisor))


def _as_hamiltonian(value: object) -> Hamiltonian | None:
    if isinstance(value, Hamiltonian):
        return value
    if isinstance(value, PauliString):
        return Hamiltonian([(1.0, value)])
    if isinstance(value, str):
        return Hamiltonian.parse(value)
    return None


Observable = Union[str, PauliString, Hamiltonian]


def _as_observable(value: object) -> PauliString | Hamiltonian:
    """A string with a sign, a ``*`` or a leading number is a weighted sum, any other a Pauli string."""
    if isinstance(value, (PauliString, Hamiltonian)):
        return value
    if isinstance(value, str):
        weighted = re.search(r"[-+*]", value) or re.match(rf"\s*{_NUMBER}", value)
        return Hamiltonian.parse(value) if weighted else PauliString(_pauli_terms(value))
    raise InputError(f"observable must be a Pauli string such as 'Z0 X1', a weighted sum such as '0.5*Z0 - X1' "
                     f"or a Hamiltonian, got {type(value).__name__}")


@dataclass(frozen=True)
class ObservableTerms:
    """The distinct Pauli strings a list of observables needs, and how to combine their values.

    ``weights`` is ``[len(strings), len(observables)]`` (float64), or ``None`` when the
    observables are the strings themselves.
    """

    strings: tuple[PauliString, ...]
    weights: torch.Tensor | None

    def __len__(self) -> int:
        """The number of observables (the columns ``combine`` returns)."""
        return len(self.strings) if self.weights is None else int(self.weights.shape[1])

    def combine(self, values: torch.Tensor) -> torch.Tensor:
        """Observable values ``[..., m]`` from string values ``[..., k]``."""
        return values if self.weights is None else values @ self.weights.to(dtype=values.dtype, device=values.device)


def expand_observables(observables: Observable | Sequence[Observable], n_qubits: int) -> ObservableTerms:
    """The strings to measure for ``observables`` (one or a list), each checked against ``n_qubits``."""
    if isinstance(observables, (str, PauliString, Hamiltonian)):
        observables = [observables]
    if isinstance(observables, (bytes, bytearray)) or not isinstance(observables, Sequence):
        raise InputError(f"observables must be a list of Pauli strings or weighted sums, got {type(observables).__name__}")
    if not observables:
        raise InputError("no observables given: pass at least one, such as ['Z0']")
    parsed = [_as_observable(o) for o in observables]
    if all(isinstance(p, PauliString) for p in parsed):
        return ObservableTerms(tuple(_check_width(p, n_qubits, p) for p in parsed), None)
    index: dict[PauliString, int] = {}
    entries: list[tuple[int, int, float]] = []
    for column, observable in enumerate(parsed):
        terms = [(1.0, observable)] if isinstance(observable, PauliString) else observable.terms
        for coefficient, string in terms:
            row = index.setdefault(_check_width(string, n_qubits, observable), len(index))
            entries.append((row, column, coefficient))
    weights = torch.zeros(len(index), len(parsed), dtype=torch.float64)
    for row, column, coefficient in entries:
        weights[row, column] += coefficient
    return ObservableTerms(tuple(index), weights)
