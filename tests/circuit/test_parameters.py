"""Angle validation and the binding of a params mapping to a batch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from qvec.circuit import bind_parameters
from qvec.circuit.parameters import ParameterStack, check_angle
from qvec.errors import InputError


@pytest.mark.parametrize("value, message", [
    (math.nan, "is nan; angles must be finite"),
    (math.inf, "is inf; angles must be finite"),
    (-math.inf, "is -inf; angles must be finite"),
    (True, "must be a number, a parameter name or a tensor, got True"),
    ("2theta", "parameter name '2theta' is not an identifier"),
    (["a"], "must hold real numbers, got 'a' in a list"),
    ([[0.1], [0.2]], r"must be a scalar or a 1-D tensor of per-row values, got shape \(2, 1\)"),
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
    (True, "must be a number, a list or array of numbers, or a tensor, got True"),
    (np.bool_(True), "must be a number, a list or array of numbers, or a tensor, got (np.)?True"),
    ("0.1", "must be a number, a list or array of numbers, or a tensor, got str"),
    (torch.zeros(2, 3), r"got shape \(2, 3\)"),
    (np.zeros((2, 3)), r"got shape \(2, 3\)"),
    ([[0.1, 0.2], [0.3]], "is not a rectangular list of numbers"),
    ([0.1, "a"], "must hold real numbers, got 'a' in a list"),
    ([0.1, None], "must hold real numbers, got None in a list"),
    ([True, False], "must hold real numbers, got True in a list"),
    (np.array([1 + 1j]), "must hold real numbers, got a numpy array of dtype complex128"),
    (np.array(["a"]), "must hold real numbers, got a numpy array of dtype <U1"),
    (math.inf, "is inf"),
    ([0.0, math.nan], "is nan at row 1"),
])
def test_bad_parameter_values_are_input_errors_naming_the_parameter(value: object, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        bind_parameters(["x"], {"x": value})
    assert str(info.value).startswith("parameter 'x'")


@pytest.mark.parametrize("value, expected", [
    (2, torch.tensor(2.0, dtype=torch.float64)),
    (np.float32(0.5), torch.tensor(0.5, dtype=torch.float64)),
    ([0.1, 0.2], torch.tensor([0.1, 0.2], dtype=torch.float64)),
    ((1, 2, 3), torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)),
    (np.array([0.5, 1.5], dtype=np.float32), torch.tensor([0.5, 1.5], dtype=torch.float32)),
    (np.arange(3), torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64)),
    (np.array(0.25), torch.tensor(0.25, dtype=torch.float64)),
])
def test_numbers_lists_and_numpy_arrays_bind_like_tensors(value: object, expected: torch.Tensor) -> None:
    batch = bind_parameters(["x"], {"x": value})
    assert batch.values["x"].dtype == expected.dtype
    assert torch.equal(batch.values["x"], expected)
    assert batch.batch_size == (expected.shape[0] if expected.dim() else 1)


def test_numpy_parameters_give_the_same_results_as_tensors() -> None:
    import qvec
    circuit = qvec.Circuit(2).ry(0, "a").cx(0, 1).rx(1, "b")
    rows = np.array([0.1, 0.7, -1.2])
    from_numpy = circuit.expval(["Z0", "Z1"], params={"a": rows, "b": [0.3, 0.3, 0.3]}, dtype=torch.complex128)
    from_tensors = circuit.expval(["Z0", "Z1"], params={"a": torch.tensor(rows), "b": torch.full((3,), 0.3, dtype=torch.float64)},
                                  dtype=torch.complex128)
    assert torch.equal(from_numpy, from_tensors)
    assert torch.allclose(from_numpy[:, 0], torch.cos(torch.tensor(rows)))


def test_params_must_be_a_mapping() -> None:
    with pytest.raises(InputError, match="params must map parameter names to values, .* got a list"):
        bind_parameters(["x"], [0.1])


def test_gate_angles_may_be_lists_and_numpy_arrays() -> None:
    assert torch.equal(check_angle(np.array([0.1, 0.2]), "a"), torch.tensor([0.1, 0.2], dtype=torch.float64))
    assert torch.equal(check_angle([1, 2], "a"), torch.tensor([1.0, 2.0], dtype=torch.float64))
    import qvec
    rows = qvec.Circuit(1).ry(0, np.array([0.0, np.pi])).probs(dtype=torch.complex128)
    assert torch.allclose(rows, torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64), atol=1e-12)


@pytest.mark.parametrize(("groups", "message"), [
    ([(["a", "b"], torch.zeros(3))], r"parameters 'a' \.\. 'b' \(2 names\) must have shape \[2\].*got shape \(3,\)"),
    ([(["a"], torch.zeros(2, 1, 1))], r"parameters 'a' must have shape \[1\].*\[B, 1\].*got shape \(2, 1, 1\)"),
    ([(["a"], torch.tensor(0.5))], r"parameters 'a' must have shape"),
    ([(["a", "b"], torch.zeros(2, dtype=torch.complex64))], r"parameters 'a' \.\. 'b'.*real tensor"),
    ([(["a"], [0.1]), (["b", "a"], [0.2, 0.3])], r"parameter 'a' is given twice"),
    ([([], torch.zeros(0))], r"non-empty list of parameter names"),
])
def test_a_bad_parameter_stack_is_an_input_error_naming_the_parameter(groups: list, message: str) -> None:
    with pytest.raises(InputError, match=message):
        ParameterStack(*groups)


def test_a_parameter_stack_checks_its_names_every_time_although_their_index_is_kept() -> None:
    good = ParameterStack((["a", "b"], [0.1, 0.2]), (["x"], [[1.0], [2.0]]))
    again = ParameterStack((("a", "b"), torch.tensor([0.3, 0.4])), (("x",), torch.tensor([[5.0]])))
    assert good.locate("x") == again.locate("x") == (1, 0) and float(again["b"]) == pytest.approx(0.4)
    for _ in range(2):  # a refusal is not kept as an answer, nor does a kept index let a bad stack through
        with pytest.raises(InputError, match=r"parameter 'a' is given twice"):
            ParameterStack((["a", "b"], [0.1, 0.2]), (["a"], [[1.0]]))
        with pytest.raises(InputError, match=r"parameters 'a' \.\. 'b' \(2 names\) must have shape \[2\]"):
            ParameterStack((["a", "b"], [0.1, 0.2, 0.3]), (["x"], [[1.0]]))
    with pytest.raises(InputError, match=r"non-empty list of parameter names"):
        ParameterStack(([["a"]], [0.1]))  # an unhashable name
    swapped = ParameterStack((["b", "a"], [0.1, 0.2]))
    assert swapped.locate("a") == (0, 1) and float(swapped["a"]) == pytest.approx(0.2)


def test_a_parameter_stack_binds_like_the_dict_of_its_columns() -> None:
    stack = ParameterStack((["a", "b"], torch.tensor([0.1, 0.2])), (["x"], [[1.0], [2.0], [3.0]]))
    assert dict(stack).keys() == {"a", "b", "x"} and float(stack["b"]) == pytest.approx(0.2)
    batch = bind_parameters(["x", "a", "b"], stack)
    assert batch.batch_size == 3 and batch.is_shared("a") and torch.equal(batch.values["x"], torch.tensor([1.0, 2.0, 3.0]))
    assert batch.stacks == stack.groups and batch.values["x"].dtype == torch.float64


@pytest.mark.parametrize(("names", "stack", "message"), [
    (["a"], ParameterStack((["a", "b"], [0.1, 0.2])), r"unknown parameter 'b'"),
    (["a", "b"], ParameterStack((["a"], [0.1])), r"missing value for parameter 'b'"),
    (["a", "b"], ParameterStack((["a"], [[0.1], [0.2]]), (["b"], [[0.1], [0.2], [0.3]])), r"same number of rows"),
    (["a", "b"], ParameterStack((["a", "b"], [0.1, float("inf")])), r"parameter 'b' is inf"),
])
def test_binding_a_bad_parameter_stack_names_the_parameter(names: list[str], stack: ParameterStack, message: str) -> None:
    with pytest.raises(InputError, match=message):
        bind_parameters(names, stack)
