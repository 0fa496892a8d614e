"""Measurements are plain frozen values that check themselves."""

from __future__ import annotations

import dataclasses

import pytest

from qvec.circuit import Hamiltonian
from qvec.errors import InputError
from qvec.execute import Expval, Probs, Samples


def test_expval_holds_a_tuple_of_observables() -> None:
    assert Expval("Z0").observables == ("Z0",)
    assert Expval(["Z0", "X0"]).observables == ("Z0", "X0")
    h = Hamiltonian([(0.5, "Z0")])
    assert Expval(h).observables == (h,)
    assert Expval(["Z0"]) == Expval(("Z0",)) and hash(Expval(["Z0"])) == hash(Expval(("Z0",)))


def test_measurements_are_frozen_and_compare_by_value() -> None:
    assert Probs() == Probs() and Samples(3) == Samples(3) and Samples(3) != Samples(4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        Samples(3).shots = 4


@pytest.mark.parametrize("make, message", [
    (lambda: Expval([]), "at least one observable"),
    (lambda: Expval(5), "observables must be a list of observables such as \\['Z0', 'X1'\\], got int"),
    (lambda: Expval(b"Z0"), "got bytes"),
    (lambda: Samples(0), "shots must be a positive integer, got 0"),
    (lambda: Samples(True), "shots must be a positive integer, got True"),
])
def test_bad_measurements_are_input_errors(make, message: str) -> None:
    with pytest.raises(InputError, match=message):
        make()
