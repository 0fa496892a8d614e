"""Pauli-string observables."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

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


# -- weighted sums ------------------------------------------------------------------------------
from qvec.circuit import Hamiltonian, expand_observables  # noqa: E402


def _terms(h: Hamiltonian) -> list[tuple[float, str]]:
    return [(c, str(s)) for c, s in h.terms]


@pytest.mark.parametrize("text, expected", [
    ("0.5*Z0 Z1 - 0.2*X0", [(0.5, "Z0 Z1"), (-0.2, "X0")]),
    ("Z0 + Z1", [(1.0, "Z0"), (1.0, "Z1")]),
    ("-Z0", [(-1.0, "Z0")]),
    ("2 X0 X1 - 1", [(2.0, "X0 X1"), (-1.0, "I")]),
    ("1e-3 * Y2 + .5*Z1 Z0", [(0.001, "Y2"), (0.5, "Z0 Z1")]),
    ("Z0 + Z0 - 0.5*Z0", [(1.5, "Z0")]),
])
def test_weighted_sums_parse(text: str, expected: list) -> None:
    assert _terms(Hamiltonian.parse(text)) == expected


@pytest.mark.parametrize("text, message", [
    ("Z0 X1 +", "bad observable 'Z0 X1 \\+' at character 7"),
    ("0.5*Z0 Z1 0.3*X0", "at character 11"),
    ("Q0 + Z1", "at character 1"),
    ("0.5*Z0Z1", "bad term 'Z0Z1'"),
    ("Z0 Z0 + X1", "names a qubit twice"),
    ("", "must be a weighted sum"),
])
def test_bad_weighted_sums(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        Hamiltonian.parse(text)


def test_hamiltonian_arithmetic() -> None:
    h = Hamiltonian([(0.5, "Z0 Z1"), (-0.2, "X0")])
    assert _terms(2 * h) == [(1.0, "Z0 Z1"), (-0.4, "X0")]
    assert _terms(h - "Z0 Z1") == [(-0.5, "Z0 Z1"), (-0.2, "X0")]
    assert _terms(h + PauliString(((2, "Y"),))) == [(0.5, "Z0 Z1"), (-0.2, "X0"), (1.0, "Y2")]
    assert _terms(sum([h, h])) == [(1.0, "Z0 Z1"), (-0.4, "X0")]
    assert _terms(-h / 2) == [(-0.25, "Z0 Z1"), (0.1, "X0")]
    assert repr(h) == "Hamiltonian('0.5*Z0 Z1 - 0.2*X0')"
    assert Hamiltonian.parse(str(h)) == h
    with pytest.raises(TypeError):
        h * "Z0"


@pytest.mark.parametrize("terms, message", [
    ([], "at least one term"),
    ([(float("nan"), "Z0")], "coefficient of term 'Z0' must be a finite real number"),
    ([(1j, "Z0")], "must be a finite real number"),
    (["Z0"], r"a \(coefficient, Pauli string\) pair"),
])
def test_bad_hamiltonians(terms: list, message: str) -> None:
    with pytest.raises(InputError, match=message):
        Hamiltonian(terms)


def test_expand_shares_strings_across_observables_and_checks_widths() -> None:
    terms = expand_observables(["Z0", "0.5*Z0 - X1", Hamiltonian([(2.0, "X1")])], 2)
    assert [str(s) for s in terms.strings] == ["Z0", "X1"]
    assert terms.weights.tolist() == [[1.0, 0.5, 0.0], [0.0, -1.0, 2.0]]
    assert len(terms) == 3
    with pytest.raises(InputError, match="acts on qubit 4, but the circuit has 2"):
        expand_observables(["0.5*Z4"], 2)
    with pytest.raises(InputError, match="no observables given"):
        expand_observables([], 2)
    with pytest.raises(InputError, match="got int"):
        expand_observables([3], 2)


def test_a_pauli_string_unpickled_in_another_process_finds_its_equal_in_a_dict() -> None:
    """A string keeps its hash for the plan caches; the kept hash must not travel (string hashes differ by process)."""
    string = PauliString(((0, "Z"), (2, "X")))
    hash(string)
    script = ("import pickle, sys; from qvec.circuit import PauliString; "
              "found = pickle.loads(sys.stdin.buffer.read()); "
              "print({PauliString(((0, 'Z'), (2, 'X'))): 'found'}[found])")
    for seed in ("1", "2"):
        completed = subprocess.run([sys.executable, "-c", script], input=pickle.dumps(string), capture_output=True,
                                   env={**os.environ, "PYTHONHASHSEED": seed}, check=True)
        assert completed.stdout.strip() == b"found"
