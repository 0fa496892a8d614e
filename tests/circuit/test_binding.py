"""Binding parameter rows into concrete circuits."""

import pytest
import torch

import qvec
from qvec.circuit.binding import bind_rows
from qvec.errors import InputError


def test_each_row_gets_its_values_and_shared_values_repeat():
    circuit = qvec.Circuit(2).ry(0, "a").rx(1, "b").rz(0, 0.25).crx(0, 1, torch.tensor([5.0, 6.0, 7.0]))
    bound = bind_rows(circuit, {"a": torch.tensor([1.0, 2.0, 3.0]), "b": 0.5})
    assert len(bound) == 3
    for row, concrete in enumerate(bound):
        assert [op.angles for op in concrete] == [(1.0 + row,), (0.5,), (0.25,), (5.0 + row,)]
        assert all(isinstance(a, float) for op in concrete for a in op.angles)


def test_a_circuit_without_parameters_is_one_row():
    circuit = qvec.Circuit(1).h(0)
    assert bind_rows(circuit) == [circuit]


def test_bad_parameters_are_input_errors():
    with pytest.raises(InputError, match="missing value for parameter 'a'"):
        bind_rows(qvec.Circuit(1).ry(0, "a"), {})
