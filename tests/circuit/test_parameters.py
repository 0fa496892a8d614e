"""Angle validation and the binding of a params mapping to a batch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from qvec.circuit import bind_parameters
from qvec.circuit.parameters import check_angle
from qvec.errors import InputError


@pytest.mark.parametrize("value, message", [
    (math.nan, "is nan; angles must be finite"),
    (math.inf, "is inf; angles must be finite"),
    (-math.inf, "is -inf; angles must be finite"),
    (True, "must be a number, a parameter name or a tensor, got True"),
    ("2theta", "parameter name '2theta' is not an identifier"),
    ([0.1], "got list"),
    (torch.zeros(2, 2), r"must be a scalar or a 1-D tensor of per-row values, got shape \(2, 2\)"),
    (torch.tensor([True]), "must be a real tensor, got dtype torch.bool"),
    (torch.tensor(1 + 1j), "must be a real tensor, got dtype torch.complex64"),
    (torch.tensor([0.0, math.nan]), "is nan at row 1; angles must be finite"),
])
def test_bad_angles_are_input_errors_naming_the_angle(value: object, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        check_angle(value, "angle 0 of rx on qubits (2,)")
    assert str(info.value).startswith("angle 0 of rx on qubits (2,)")


def test_good_angles() -> None:
    assert check_angle(1, "a") == 1.0 and isinstance(check_angle(1, "a"), float)
    assert check_angle(np.float32(0.5), "a") == 0.5
    assert check_angle("theta", "a") == "theta"
    shared = torch.tensor(0.25, requires_grad=True)
    assert check_angle(shared, "a") is shared
    assert check_angle(torch.tensor([1, 2]), "a").dtype == torch.float64


def test_bind_fixes_the_batch_size_from_per_row_values() -> None:
    batch = bind_parameters(["a", "b"], {"a": 0.1, "b": torch.zeros(5)})
    assert batch.batch_size == 5
    assert batch.is_shared("a") and not batch.is_shared("b")
    assert batch.values["a"].dtype == torch.float64


def test_bind_without_per_row_values_is_a_batch_of_one() -> None:
    assert bind_parameters([], None).batch_size == 1
    assert bind_parameters([], None, [torch.zeros(3)]).batch_size == 3


def test_unknown_parameter() -> None:
    with pytest.raises(InputError, match="unknown parameter 'c'; the circuit's parameters are: a, b"):
        bind_parameters(["a", "b"], {"a": 0.1, "b": 0.2, "c": 0.3})


def test_missing_parameter() -> None:
    with pytest.raises(InputError, match="missing value for parameter 'b'"):
        bind_parameters(["a", "b"], {"a": 0.1})


def test_per_row_lengths_must_agree() -> None:
    with pytest.raises(InputError, match="'a' has 3, 'b' has 4"):
        bind_parameters(["a", "b"], {"a": torch.zeros(3), "b": torch.zeros(4)})
    with pytest.raises(InputError, match="tensor angle #0"):
        bind_parameters(["a"], {"a": torch.zeros(3)}, [torch.zeros(2)])


def test_nan_names_the_parameter_and_row() -> None:
    with pytest.raises(InputError, match=r"parameter 'x' is nan at row 2; angles must be finite"):
        bind_parameters(["x"], {"x": torch.tensor([0.0, 1.0, math.nan])})


@pytest.mark.parametrize("value, message", [
    (True, "must be a number or a tensor, got bool"),
    ("0.1", "must be a number or a tensor, got str"),
    (torch.zeros(2, 3), r"got shape \(2, 3\)"),
    (math.inf, "is inf"),
])
def test_bad_parameter_values(value: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        bind_parameters(["x"], {"x": value})
