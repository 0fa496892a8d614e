"""Shift rules against central finite differences of real expectation values, and the textbook spectra."""

import math

import pytest
import torch

from qvec import sim
from qvec.circuit import Circuit, GATES
from qvec.errors import InputError
from qvec.grad.rules import FOUR_TERM, RULES, TWO_TERM, ShiftRule, shift_rule

OBSERVABLES = ["Z0", "X1", "Y0 Z1", "X0 X1"]


def _expval(gate: str, index: int, theta: float, others: list[float]) -> torch.Tensor:
    """Values of a 2-qubit circuit: a generic state, then ``gate`` with angle ``index`` set to ``theta``."""
    circuit = Circuit(2).ry(0, 0.7).rx(1, -1.1).cx(0, 1).rz(0, 0.4).ry(1, 0.9)
    angles = list(others[:GATES[gate].n_params])
    angles[index] = theta
    circuit.append(gate, tuple(range(GATES[gate].n_qubits)), angles)
    circuit.h(1).ry(0, 0.3)
    return sim.expval(circuit, OBSERVABLES, dtype=torch.complex128)[0]


def _by_rule(rule: ShiftRule, gate: str, index: int, theta: float, others: list[float]) -> torch.Tensor:
    return sum(c * _expval(gate, index, theta + s, others) for s, c in zip(rule.shifts, rule.coefficients))


def _finite_difference(gate: str, index: int, theta: float, others: list[float], h: float = 1e-4) -> torch.Tensor:
    return (_expval(gate, index, theta + h, others) - _expval(gate, index, theta - h, others)) / (2 * h)


@pytest.mark.parametrize("gate, index", [(g, i) for g in RULES for i in range(GATES[g].n_params)])
@pytest.mark.parametrize("theta", [0.37, -2.1])
def test_every_rule_matches_finite_differences(gate, index, theta):
    others = [0.8, -0.5, 1.3]
    derivative = _finite_difference(gate, index, theta, others)
    assert derivative.abs().max() > 1e-3  # the angle matters, so the check can fail
    torch.testing.assert_close(_by_rule(shift_rule(gate), gate, index, theta, others), derivative, atol=1e-7, rtol=0)


@pytest.mark.parametrize("gate", ["crx", "cry", "crz"])
def test_two_term_rule_is_wrong_for_controlled_rotations(gate):
    others = [0.8]
    error = _by_rule(TWO_TERM, gate, 0, 0.37, others) - _finite_difference(gate, 0, 0.37, others)
    assert error.abs().max() > 1e-2


@pytest.mark.parametrize("frequency", [0.5, 1.0])
def test_four_term_rule_differentiates_both_frequencies(frequency):
    # d/dtheta sin(w theta) at theta = 0.3 is w cos(0.3 w); likewise for cos.
    for f, df in ((math.sin, math.cos), (math.cos, lambda v: -math.sin(v))):
        by_rule = sum(c * f(frequency * (0.3 + s)) for s, c in zip(FOUR_TERM.shifts, FOUR_TERM.coefficients))
        assert by_rule == pytest.approx(frequency * df(0.3 * frequency), abs=1e-12)


def test_every_parametrized_gate_has_a_rule():
    assert {name for name, gate in GATES.items() if gate.n_params} == set(RULES)


def test_gate_without_rule_is_an_input_error():
    with pytest.raises(InputError, match="no rule for gate 'h'"):
        shift_rule("h")
