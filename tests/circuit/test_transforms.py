"""Circuit.inverse, compose, copy, statevector, and the qelib1 gate methods, against dense references."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import qvec
from qvec.circuit import GATES, ScaledParameter
from qvec.errors import InputError

from .reference import IR_GATES, circuit_unitary

ANGLES = (0.7, -1.3, 2.2)


def _every_gate(n_qubits: int = 3) -> qvec.Circuit:
    circuit = qvec.Circuit(n_qubits)
    for index, name in enumerate(sorted(GATES)):
        gate = GATES[name]
        wires = [(index + k) % n_qubits for k in range(gate.n_qubits)]
        circuit.append(name, wires, ANGLES[: gate.n_params])
    return circuit


def _state(circuit: qvec.Circuit, params=None) -> np.ndarray:
    return circuit.statevector(params, dtype=torch.complex128)[0].detach().numpy()


@pytest.mark.parametrize("name", sorted(GATES))
def test_inverse_of_every_gate_is_its_exact_adjoint(name: str) -> None:
    gate = GATES[name]
    circuit = qvec.Circuit(gate.n_qubits).append(name, range(gate.n_qubits), ANGLES[: gate.n_params])
    assert np.allclose(circuit_unitary(circuit.inverse()), circuit_unitary(circuit).conj().T, atol=1e-12)


def test_inverse_reverses_the_order_and_composes_to_the_identity() -> None:
    circuit = _every_gate()
    assert circuit.inverse().operations[0].gate == circuit.operations[-1].gate
    assert np.allclose(circuit_unitary(circuit.compose(circuit.inverse())), np.eye(8), atol=1e-12)


def test_inverse_negates_named_parameters_and_the_engine_reads_them() -> None:
    circuit = qvec.Circuit(2).ry(0, "a").crx(0, 1, "b").u(1, "a", "b", 0.3)
    inverse = circuit.inverse()
    assert inverse.parameters == ["a", "b"]  # u(-a, -0.3, -b) comes first
    assert inverse.operations[0].angles == (ScaledParameter("a", -1.0), -0.3, ScaledParameter("b", -1.0))
    assert str(inverse.operations[-1]) == "ry(-a)[0]"
    rows = {"a": torch.tensor([0.3, -1.1]), "b": torch.tensor([2.0, 0.4])}
    states = (circuit.compose(inverse)).statevector(rows, dtype=torch.complex128)
    assert torch.allclose(states, torch.tensor([[1, 0, 0, 0]] * 2, dtype=torch.complex128), atol=1e-12)
    # The inverse alone, against the dense adjoint with the values bound.
    bound = qvec.Circuit(2).ry(0, 0.3).crx(0, 1, 2.0).u(1, 0.3, 2.0, 0.3)
    expected = circuit_unitary(bound.inverse())
    assert np.allclose(circuit_unitary(bound.inverse()), circuit_unitary(bound).conj().T, atol=1e-12)
    got = inverse.statevector({"a": 0.3, "b": 2.0}, dtype=torch.complex128)[0].numpy()
    # statevector is qubit 0 least significant; the dense reference has wire 0 most significant.
    assert np.allclose(got.reshape(2, 2).T.reshape(4), expected[:, 0], atol=1e-12)


def test_gradients_flow_through_negated_parameters() -> None:
    theta = torch.tensor([0.4, 1.3], dtype=torch.float64, requires_grad=True)
    circuit = qvec.Circuit(1).ry(0, "t").inverse()
    value = circuit.expval(["Z0"], {"t": theta}, dtype=torch.complex128)[:, 0]
    value.sum().backward()
    assert torch.allclose(value, torch.cos(theta).detach())
    assert torch.allclose(theta.grad, -torch.sin(theta).detach())


def test_inverse_of_tensor_angles_negates_them_with_gradients() -> None:
    theta = torch.tensor(0.8, dtype=torch.float64, requires_grad=True)
    circuit = qvec.Circuit(1).rx(0, theta)
    (circuit.inverse().operations[0].angles[0]).backward()
    assert theta.grad.item() == -1.0


def test_bound_inverse_exports_and_binds() -> None:
    inverse = qvec.Circuit(1).rx(0, "a").inverse()
    assert "rx(-0.5) q[0];" in qvec.circuit.to_qasm(inverse, {"a": 0.5})
    from qvec.circuit.binding import bind_rows
    assert [op.angles for op in bind_rows(inverse, {"a": [0.5, 1.0]})[1]] == [(-1.0,)]


def test_compose_maps_wires_and_leaves_both_circuits_unchanged() -> None:
    base = qvec.Circuit(3).h(0)
    block = qvec.Circuit(2).cx(0, 1).ry(1, "w")
    composed = base.compose(block, wires=[2, 0])
    assert [(op.gate, op.wires) for op in composed] == [("h", (0,)), ("cx", (2, 0)), ("ry", (0,))]
    assert len(base) == 1 and len(block) == 2
    assert base.compose(block).operations[1].wires == (0, 1)


@pytest.mark.parametrize("wires, message", [
    ([0], "must name one qubit for each"), ([1, 1], "must be distinct qubits"), ([0, 3], "must be distinct qubits"),
])
def test_compose_refuses_bad_wires(wires: list[int], message: str) -> None:
    with pytest.raises(InputError, match=message):
        qvec.Circuit(3).compose(qvec.Circuit(2).cx(0, 1), wires=wires)


def test_compose_refuses_a_wider_circuit_without_wires() -> None:
    with pytest.raises(InputError, match="must name one qubit for each"):
        qvec.Circuit(1).compose(qvec.Circuit(2), wires=[0])
    with pytest.raises(InputError, match="the other circuit has 2 qubits, this one 1; pass wires="):
        qvec.Circuit(1).compose(qvec.Circuit(2).cx(0, 1))


def test_copy_is_independent() -> None:
    circuit = qvec.Circuit(2).h(0)
    copied = circuit.copy().cx(0, 1)
    assert len(circuit) == 1 and len(copied) == 2


def test_statevector_is_little_endian_batched_and_differentiable() -> None:
    theta = torch.tensor([0.0, math.pi / 2, math.pi], dtype=torch.float64, requires_grad=True)
    states = qvec.Circuit(2).ry(0, "t").statevector({"t": theta}, dtype=torch.complex128)
    assert states.shape == (3, 4) and states.dtype == torch.complex128
    expected = torch.stack([torch.cos(theta / 2), torch.sin(theta / 2), 0 * theta, 0 * theta], 1).detach()
    assert torch.allclose(states.real, expected, atol=1e-12)  # qubit 0 flipped: index 1
    states[:, 1].real.sum().backward()
    assert torch.allclose(theta.grad, 0.5 * torch.cos(theta / 2).detach())
    assert qvec.Circuit(1).statevector().dtype == torch.complex64


# The qelib1 gate methods and the textbook matrix each must produce.
METHODS = {
    "u1": (lambda c, w: c.u1(*w, 0.7), 1, lambda: IR_GATES["p"](0.7)),
    "u2": (lambda c, w: c.u2(*w, 0.7, -1.3), 1, lambda: IR_GATES["u"](math.pi / 2, 0.7, -1.3)),
    "u3": (lambda c, w: c.u3(*w, 0.4, 0.7, -1.3), 1, lambda: IR_GATES["u"](0.4, 0.7, -1.3)),
    "cp": (lambda c, w: c.cp(*w, 0.7), 2, lambda: np.diag([1, 1, 1, np.exp(0.7j)])),
    "cu1": (lambda c, w: c.cu1(*w, 0.7), 2, lambda: np.diag([1, 1, 1, np.exp(0.7j)])),
    "ch": (lambda c, w: c.ch(*w), 2, lambda: np.block([[np.eye(2), np.zeros((2, 2))],
                                                        [np.zeros((2, 2)), np.array([[1, 1], [1, -1]]) / math.sqrt(2)]])),
    "cswap": (lambda c, w: c.cswap(*w), 3, lambda: np.eye(8)[[0, 1, 2, 3, 4, 6, 5, 7]]),
    "iswap": (lambda c, w: c.iswap(*w), 2, lambda: np.array([[1, 0, 0, 0], [0, 0, 1j, 0], [0, 1j, 0, 0], [0, 0, 0, 1]])),
    "sxdg": (lambda c, w: c.sxdg(*w), 1, lambda: np.array([[1 - 1j, 1 + 1j], [1 + 1j, 1 - 1j]]) / 2),
}


@pytest.mark.parametrize("name", sorted(METHODS))
def test_qelib1_gate_methods_simulate_to_their_textbook_matrix(name: str) -> None:
    """Column j of the matrix is the state after preparing |j>; the gate's first wire is the top qubit."""
    build, n_qubits, matrix = METHODS[name]
    expected = matrix()
    for j in range(2**n_qubits):
        circuit = qvec.Circuit(n_qubits)
        for qubit in range(n_qubits):
            if j >> qubit & 1:
                circuit.x(qubit)
        build(circuit, list(reversed(range(n_qubits))))
        assert np.allclose(_state(circuit), expected[:, j], atol=1e-12), (name, j)


def test_inverting_twice_gives_back_the_circuit() -> None:
    circuit = qvec.Circuit(2).ry(0, "a").u(1, "a", 0.2, "b").s(0).sx(1).crz(1, 0, -0.4).cp(0, 1, "b")
    assert circuit.inverse().inverse() == circuit
    assert circuit.inverse().inverse().fingerprint() == circuit.fingerprint()
