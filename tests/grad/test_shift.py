"""Parameter-shift gradients against torch autograd through qvec.sim (complex128), and the evaluate calls they cost."""

import random

import pytest
import torch

from qvec import sim
from qvec.circuit import GATES, Circuit, Hamiltonian, ScaledParameter
from qvec.errors import InputError
from qvec.grad import rules, shift_expval

from .counting import CountingEvaluate

F64 = torch.float64
PARAMETRIZED = sorted(name for name, gate in GATES.items() if gate.n_params)
OBSERVABLES = ["Z0", "X1 Y2", "Z0 Z1 Z2", "Y1"]


def _reference(circuit, observables, params, wrt, weights):
    values = sim.expval(circuit, observables, params, dtype=torch.complex128)
    return values, torch.autograd.grad((values * weights).sum(), wrt, retain_graph=True)  # keeps 3 * tensor's graph


def _shifted(circuit, observables, params, wrt, weights, evaluate):
    values = shift_expval(circuit, observables, params, evaluate)
    return values, torch.autograd.grad((values * weights).sum(), wrt)


def _random_case(seed: int, batch: int = 3):
    """Every parametrized gate at least once, angles from shared, per-row, repeated, scaled and tensor sources."""
    rng = random.Random(seed)
    torch.manual_seed(seed)
    leaves = {
        "a": torch.rand((), dtype=F64, requires_grad=True),                  # shared
        "x": torch.rand(batch, dtype=F64, requires_grad=True),               # per row
        "shared_tensor": torch.rand((), dtype=F64, requires_grad=True),      # a tensor angle
        "row_tensor": torch.rand(batch, dtype=F64, requires_grad=True),      # a per-row tensor angle
    }
    params = {"a": leaves["a"], "x": leaves["x"], "fixed": torch.rand(batch, dtype=F64), "c": 0.4}
    sources = ["a", "x", "a", "fixed", "c", ScaledParameter("a", -2.5), ScaledParameter("x", 0.5),
               leaves["shared_tensor"], leaves["row_tensor"], 3 * leaves["shared_tensor"], torch.rand(batch, dtype=F64),
               rng.uniform(-3, 3)]
    gates = PARAMETRIZED + [rng.choice(PARAMETRIZED) for _ in range(10)]
    rng.shuffle(gates)
    slots = sum(GATES[gate].n_params for gate in gates)
    angles = sources + [rng.choice(sources) for _ in range(slots - len(sources))]  # every source at least once
    rng.shuffle(angles)
    circuit = Circuit(3)
    for q in range(3):
        circuit.h(q)
    for gate in gates:
        definition = GATES[gate]
        wires = rng.sample(range(3), definition.n_qubits)
        circuit.append(gate, wires, [angles.pop() for _ in range(definition.n_params)])
        circuit.cx(*rng.sample(range(3), 2))
    return circuit, params, list(leaves.values())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradients_equal_autograd_on_random_circuits(seed):
    circuit, params, wrt = _random_case(seed)
    weights = torch.randn(3, len(OBSERVABLES), dtype=F64)
    expected_values, expected = _reference(circuit, OBSERVABLES, params, wrt, weights)
    values, grads = _shifted(circuit, OBSERVABLES, params, wrt, weights, CountingEvaluate(OBSERVABLES))
    torch.testing.assert_close(values, expected_values, atol=1e-10, rtol=0)
    for got, want in zip(grads, expected):
        assert got.shape == want.shape
        torch.testing.assert_close(got, want, atol=1e-8, rtol=0)


def test_weighted_sum_observables():
    circuit, params, wrt = _random_case(3)
    observables = [Hamiltonian([(0.5, "Z0 Z1"), (-0.2, "X0")]), "0.3*Y2 - 1.5*Z0 X1 + 2", "Z1"]
    weights = torch.randn(3, 3, dtype=F64)
    expected_values, expected = _reference(circuit, observables, params, wrt, weights)
    values, grads = _shifted(circuit, observables, params, wrt, weights, CountingEvaluate(observables))
    torch.testing.assert_close(values, expected_values, atol=1e-10, rtol=0)
    for got, want in zip(grads, expected):
        torch.testing.assert_close(got, want, atol=1e-8, rtol=0)


def _two_gate_case(batch_values):
    """ry(w) on qubit 0 and crx(x) on (0, 1): occurrences with 2 + 4 shifted blocks."""
    w = torch.tensor(0.3, dtype=F64, requires_grad=True)
    x = torch.tensor(batch_values, dtype=F64, requires_grad=True)
    return Circuit(2).ry(0, "w").crx(0, 1, "x"), {"w": w, "x": x}, [w, x]


def test_a_training_step_is_one_evaluate_call_with_every_shifted_row():
    circuit, params, wrt = _two_gate_case([0.1, 0.2, 0.3])
    evaluate = CountingEvaluate(["Z1"])
    values = shift_expval(circuit, ["Z1"], params, evaluate)
    assert evaluate.rows == [3 * (1 + 2 + 4)]  # forward sends the shifted rows too
    values.sum().backward()
    assert evaluate.calls == 1  # backward only contracts the Jacobian


def test_values_alone_send_only_the_rows():
    circuit, params, _ = _two_gate_case([0.1, 0.2, 0.3])
    evaluate = CountingEvaluate(["Z1"])
    with torch.no_grad():
        values = shift_expval(circuit, ["Z1"], params, evaluate)
    detached = shift_expval(circuit, ["Z1"], {k: v.detach() for k, v in params.items()}, evaluate)
    assert evaluate.rows == [3, 3]
    assert values.grad_fn is None and detached.grad_fn is None
    torch.testing.assert_close(values, sim.expval(circuit, ["Z1"], params, dtype=torch.complex128).detach())


def test_identical_rows_are_sent_once():
    circuit, params, wrt = _two_gate_case([0.1, 0.7, 0.1, 0.7])
    evaluate = CountingEvaluate(["Z1", "X0"])
    weights = torch.randn(4, 2, dtype=F64)
    values, grads = _shifted(circuit, ["Z1", "X0"], params, wrt, weights, evaluate)
    assert evaluate.rows == [2 * (1 + 2 + 4)]
    assert len(torch.unique(evaluate.sent[0], dim=0)) == evaluate.rows[0]
    expected_values, expected = _reference(circuit, ["Z1", "X0"], params, wrt, weights)
    torch.testing.assert_close(values, expected_values, atol=1e-10, rtol=0)
    for got, want in zip(grads, expected):
        torch.testing.assert_close(got, want, atol=1e-8, rtol=0)


def test_backward_twice_with_retain_graph_accumulates_without_evaluating_again():
    circuit, params, (w, x) = _two_gate_case([0.1, 0.2])
    evaluate = CountingEvaluate(["Z1"])
    loss = shift_expval(circuit, ["Z1"], params, evaluate).sum()
    loss.backward(retain_graph=True)
    first = w.grad.clone(), x.grad.clone()
    loss.backward()
    torch.testing.assert_close(w.grad, 2 * first[0])
    torch.testing.assert_close(x.grad, 2 * first[1])
    assert evaluate.calls == 1


def test_second_derivatives_raise_instead_of_being_wrong():
    circuit, params, (w, _) = _two_gate_case([0.1, 0.2])
    values = shift_expval(circuit, ["Z1"], params, CountingEvaluate(["Z1"]))
    with pytest.raises(InputError, match="first derivatives only"):
        torch.autograd.grad(values.sum(), w, create_graph=True)


def test_gradcheck_against_finite_differences():
    circuit, params, (w, x) = _two_gate_case([0.1, -0.8])
    circuit.u(1, "x", ScaledParameter("w", 2.0), "w").cp(1, 0, "w")
    evaluate = CountingEvaluate(["Z0", "X1"])
    assert torch.autograd.gradcheck(lambda w, x: shift_expval(circuit, ["Z0", "X1"], {"w": w, "x": x}, evaluate),
                                    (w, x), eps=1e-6, atol=1e-6)


def test_gate_without_rule_is_an_input_error_before_evaluating(monkeypatch):
    monkeypatch.delitem(rules.RULES, "crx")
    circuit, params, _ = _two_gate_case([0.1, 0.2])
    evaluate = CountingEvaluate(["Z1"])
    with pytest.raises(InputError, match="no rule for gate 'crx'"):
        shift_expval(circuit, ["Z1"], params, evaluate)
    assert evaluate.calls == 0
    params["x"] = params["x"].detach()  # no gradient through crx: no rule needed
    shift_expval(circuit, ["Z1"], params, evaluate).sum().backward()


def test_circuit_without_angles_evaluates_one_row():
    evaluate = CountingEvaluate(["Z0", "X0"])
    values = shift_expval(Circuit(1).h(0), ["Z0", "X0"], None, evaluate)
    torch.testing.assert_close(values, torch.tensor([[0.0, 1.0]], dtype=F64), atol=1e-12, rtol=0)
    assert evaluate.rows == [1]


def test_evaluate_returning_the_wrong_shape_is_an_input_error():
    circuit, params, _ = _two_gate_case([0.1, 0.2])
    with pytest.raises(InputError, match=r"expected a tensor of shape \(14, 2\)"):
        shift_expval(circuit, ["Z1", "Z0"], params, lambda c, p: torch.zeros(14, 1))


def test_bad_params_are_input_errors():
    circuit, params, _ = _two_gate_case([0.1, 0.2])
    with pytest.raises(InputError, match="missing value for parameter 'x'"):
        shift_expval(circuit, ["Z1"], {"w": params["w"]}, CountingEvaluate(["Z1"]))
