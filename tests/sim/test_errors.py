"""Bad input to an execution: a clear error and no result."""

from __future__ import annotations

import math

import pytest
import torch

import qvec


def test_missing_and_unknown_parameters() -> None:
    circuit = qvec.Circuit(1).rx(0, "theta")
    with pytest.raises(ValueError, match="missing value for parameter 'theta'"):
        circuit.probs()
    with pytest.raises(ValueError, match="unknown parameter 'phi'"):
        circuit.probs({"theta": 0.1, "phi": 0.2})


def test_per_row_lengths_must_agree() -> None:
    circuit = qvec.Circuit(2).rx(0, "a").ry(1, "b")
    with pytest.raises(ValueError, match="same number of rows"):
        circuit.probs({"a": torch.zeros(3), "b": torch.zeros(4)})


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_parameter_names_the_row(bad: float) -> None:
    circuit = qvec.Circuit(1).rx(0, "a")
    with pytest.raises(ValueError, match="parameter 'a' is .* at row 2"):
        circuit.probs({"a": torch.tensor([0.0, 1.0, bad])})


def test_bad_observable() -> None:
    circuit = qvec.Circuit(2)
    with pytest.raises(ValueError, match="qubit 5"):
        circuit.expval(["Z5"])
    with pytest.raises(ValueError, match="bad term 'Q0'"):
        circuit.expval(["Q0"])
