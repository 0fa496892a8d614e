"""Building circuits: validation, inspection, equality, hashing and fingerprints."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

import qvec
from qvec.circuit import Operation
from qvec.errors import InputError

SAMPLE = "qvec.Circuit(3).h(0).cx(0, 1).ry(2, 'theta').u(1, 0.1, 0.2, 0.3).crz(2, 0, torch.tensor([0.5, -0.25]))"
# Pinned: a change here invalidates every job journal and cache key written before it.
SAMPLE_FINGERPRINT = "ebc47a5430ee5b5f2261dc0ee9b7d3b85602c072308dbc8bff89479de388a61c"


def sample() -> qvec.Circuit:
    return eval(SAMPLE, {"qvec": qvec, "torch": torch})


def test_every_contract_gate_method_appends_its_gate() -> None:
    c = qvec.Circuit(3)
    for name in "h x y z s sdg t tdg sx".split():
        getattr(c, name)(1)
    for name in "rx ry rz p".split():
        getattr(c, name)(2, 0.5)
    c.u(0, 0.1, 0.2, 0.3)
    for name in "cx cy cz swap".split():
        getattr(c, name)(0, 2)
    for name in "crx cry crz rxx ryy rzz".split():
        getattr(c, name)(2, 1, "w")
    c.ccx(0, 1, 2)
    assert [op.gate for op in c] == (
        "h x y z s sdg t tdg sx rx ry rz p u cx cy cz swap crx cry crz rxx ryy rzz ccx".split())
    assert c.operations[-1] == Operation("ccx", (0, 1, 2))
    assert c.operations[13].angles == (0.1, 0.2, 0.3)
    assert c.parameters == ["w"]


def test_gate_methods_chain_and_parameters_keep_first_use_order() -> None:
    c = qvec.Circuit(2).rx(0, "b").ry(1, "a").rz(0, "b")
    assert len(c) == 3 and c.parameters == ["b", "a"]


def test_tensor_angles_are_listed() -> None:
    shared, per_row = torch.tensor(0.3), torch.zeros(4)
    c = qvec.Circuit(1).rx(0, shared).ry(0, per_row).rz(0, 0.1)
    assert [t is a for t, a in zip(c.tensor_angles(), (shared, per_row))] == [True, True]


@pytest.mark.parametrize("n", [0, -1, 2.0, True, "3"])
def test_bad_qubit_count(n: object) -> None:
    with pytest.raises(InputError, match="n_qubits must be a positive integer"):
        qvec.Circuit(n)


@pytest.mark.parametrize("build, message", [
    (lambda c: c.h(3), "qubit 3 of gate 'h' is out of range for a 3-qubit circuit"),
    (lambda c: c.h(-1), "qubit -1 of gate 'h' is out of range"),
    (lambda c: c.x(True), "qubit True of gate 'x' is out of range"),
    (lambda c: c.cx(1, 1), r"gate 'cx' names qubit 1 twice in wires \(1, 1\)"),
    (lambda c: c.ccx(0, 2, 2), r"gate 'ccx' names qubit 2 twice"),
    (lambda c: c.rx(0, float("nan")), r"angle 0 of rx on qubits \(0,\) is nan"),
    (lambda c: c.append("rx", (0, 1), (0.1,)), r"gate 'rx' acts on 1 qubit\(s\), got wires \(0, 1\)"),
    (lambda c: c.append("rx", (0,), ()), r"gate 'rx' takes 1 angle\(s\), got 0"),
    (lambda c: c.append("foo", (0,)), "unknown gate 'foo'"),
])
def test_bad_operations_are_input_errors_and_leave_the_circuit_unchanged(build, message: str) -> None:
    c = qvec.Circuit(3).h(0)
    with pytest.raises(InputError, match=message):
        build(c)
    assert c == qvec.Circuit(3).h(0)


def test_equality_and_hash_are_by_content() -> None:
    a, b = sample(), sample()
    assert a == b and hash(a) == hash(b) and a is not b
    assert len({a, b}) == 1
    assert a != qvec.Circuit(3).h(0)
    assert a.copy() == a


@pytest.mark.parametrize("other", [
    qvec.Circuit(4).rx(0, 0.2), qvec.Circuit(3).rx(1, 0.2), qvec.Circuit(3).rx(0, 0.1), qvec.Circuit(3).ry(0, 0.2),
    qvec.Circuit(3).rx(0, "a"), qvec.Circuit(3).rx(0, torch.tensor(0.2)), qvec.Circuit(3).rx(0, torch.tensor([0.2])),
], ids=str)
def test_different_circuits_differ(other: qvec.Circuit) -> None:
    base = qvec.Circuit(3).rx(0, 0.2)
    assert other != base and other.fingerprint() != base.fingerprint()


def test_tensor_angles_compare_by_value() -> None:
    assert qvec.Circuit(1).rx(0, torch.tensor([0.1, 0.2])) == qvec.Circuit(1).rx(0, torch.tensor([0.1, 0.2]))
    assert qvec.Circuit(1).rx(0, torch.tensor([0.1, 0.2])) != qvec.Circuit(1).rx(0, torch.tensor([0.1, 0.3]))


def test_fingerprint_is_pinned_and_stable_across_processes() -> None:
    assert sample().fingerprint() == SAMPLE_FINGERPRINT
    code = f"import qvec, torch; print({SAMPLE}.fingerprint())"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == SAMPLE_FINGERPRINT


def test_printable() -> None:
    assert repr(sample()) == "Circuit(n_qubits=3, operations=5)"
    assert str(sample()).splitlines()[1:] == [
        "  h[0]", "  cx[0, 1]", "  ry(theta)[2]", "  u(0.1, 0.2, 0.3)[1]", "  crz(tensor(2,))[2, 0]"]


def test_construct_from_operations_validates_them() -> None:
    ops = sample().operations
    assert qvec.Circuit(3, ops) == sample()
    with pytest.raises(InputError, match="out of range for a 2-qubit circuit"):
        qvec.Circuit(2, ops)


def test_negative_zero_angle_has_the_same_fingerprint_as_zero() -> None:
    zero, negative_zero = qvec.Circuit(1).rx(0, 0.0), qvec.Circuit(1).rx(0, -0.0)
    assert zero == negative_zero and hash(zero) == hash(negative_zero)
    assert zero.fingerprint() == negative_zero.fingerprint()
