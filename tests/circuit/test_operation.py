"""Operations: value equality (tensors included) and readable reprs."""

from __future__ import annotations

import torch

from qvec.circuit import GATES, Operation


def test_equality_and_hash_by_value() -> None:
    a = Operation("rx", (0,), (torch.tensor([0.5, 1.0]),))
    b = Operation("rx", (0,), (torch.tensor([0.5, 1.0]),))
    assert a == b and hash(a) == hash(b)
    assert a != Operation("rx", (0,), (0.5,))
    assert Operation("h", (1,)) != Operation("h", (0,))
    assert Operation("h", (0,)) != "h[0]"


def test_parameter_names_and_definition() -> None:
    op = Operation("u", (2,), ("a", 0.1, "b"))
    assert op.parameter_names == ("a", "b")
    assert op.definition is GATES["u"]


def test_repr() -> None:
    assert repr(Operation("cx", (0, 1))) == "cx[0, 1]"
    assert repr(Operation("rx", (3,), (0.123456789,))) == "rx(0.123457)[3]"
    assert repr(Operation("crz", (0, 1), ("theta",))) == "crz(theta)[0, 1]"
    assert repr(Operation("ry", (0,), (torch.tensor(0.25),))) == "ry(0.25)[0]"
    assert repr(Operation("ry", (0,), (torch.zeros(7),))) == "ry(tensor(7,))[0]"
