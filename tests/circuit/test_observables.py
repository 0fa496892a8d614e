"""Pauli-string observables."""

from __future__ import annotations

import pytest

from qvec.circuit import PauliString, parse_observable
from qvec.errors import InputError


def test_terms_are_sorted_by_qubit_and_identity_dropped() -> None:
    observable = parse_observable("Y3 I2 x1", 4)
    assert observable.terms == ((1, "X"), (3, "Y"))
    assert str(observable) == "X1 Y3"
    assert observable.wires == (1, 3)


def test_masks() -> None:
    assert parse_observable("X0 Y2 Z3 Z1", 4).masks() == (0b0001, 0b0100, 0b1010)


def test_identity_only() -> None:
    observable = parse_observable("I0", 1)
    assert observable.terms == () and str(observable) == "I"


def test_pauli_string_passes_through_with_a_range_check() -> None:
    observable = PauliString(((0, "Z"),))
    assert parse_observable(observable, 1) == observable
    with pytest.raises(InputError, match="acts on qubit 2"):
        parse_observable(PauliString(((2, "Z"),)), 2)


def test_equal_strings_compare_and_hash_equal() -> None:
    assert parse_observable("Z1 Z0", 2) == parse_observable("Z0 Z1", 2)
    assert len({parse_observable("Z1 Z0", 2), parse_observable("Z0  Z1", 2)}) == 1


@pytest.mark.parametrize("text, message", [
    ("", "must be a Pauli string"),
    ("   ", "must be a Pauli string"),
    (3, "must be a Pauli string"),
    ("Q0", "bad term 'Q0'"),
    ("Z", "bad term 'Z'"),
    ("Z-1", "bad term 'Z-1'"),
    ("Z0Z1", "bad term 'Z0Z1'"),
    ("Z5", "acts on qubit 5, but the circuit has 3 qubit"),
    ("Z0 X0", "names a qubit twice"),
])
def test_bad_observables(text: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_observable(text, 3)
