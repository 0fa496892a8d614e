"""Hypothesis properties: norm preservation and unitarity of whole circuits."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import qvec
from qvec.circuit import GATES, gate_matrix

from .reference import embed


@st.composite
def circuits(draw) -> qvec.Circuit:
    n_qubits = draw(st.integers(1, 4))
    circuit = qvec.Circuit(n_qubits)
    names = sorted(g.name for g in GATES.values() if g.n_qubits <= n_qubits)
    for _ in range(draw(st.integers(0, 12))):
        gate = GATES[draw(st.sampled_from(names))]
        wires = draw(st.permutations(range(n_qubits)))[: gate.n_qubits]
        angles = [draw(st.floats(-10, 10)) for _ in range(gate.n_params)]
        circuit.append(gate.name, wires, angles)
    return circuit


@settings(max_examples=60, deadline=None)
@given(circuits())
def test_probabilities_sum_to_one(circuit: qvec.Circuit) -> None:
    total = circuit.probs(dtype=torch.complex128).sum(-1)
    torch.testing.assert_close(total, torch.ones_like(total))


@settings(max_examples=40, deadline=None)
@given(circuits())
def test_circuit_unitary_is_unitary(circuit: qvec.Circuit) -> None:
    """Simulate every basis state as a batch row: the columns form a unitary, equal to the dense product."""
    dim = 2**circuit.n_qubits
    prep = qvec.Circuit(circuit.n_qubits)
    flips = [torch.tensor([float((i >> q) & 1) * np.pi for i in range(dim)], dtype=torch.float64) for q in range(circuit.n_qubits)]
    for q in range(circuit.n_qubits):
        prep.rx(q, flips[q])
    for op in circuit.operations:
        prep.append(op.gate, op.wires, op.angles)
    columns = qvec.sim.simulate(prep, dtype=torch.complex128).numpy()
    # RX(pi)|0> = -i|1>: undo that phase per flipped qubit to get the plain basis-state columns
    phases = np.array([(-1j) ** bin(i).count("1") for i in range(dim)])
    unitary = (columns / phases[:, None]).T
    np.testing.assert_allclose(unitary.conj().T @ unitary, np.eye(dim), atol=1e-10)
    expected = np.eye(dim, dtype=complex)
    for op in circuit.operations:
        expected = embed(gate_matrix(op.gate, *op.angles).numpy(), op.wires, circuit.n_qubits) @ expected
    np.testing.assert_allclose(unitary, expected, atol=1e-10)
