"""The engine against the dense reference: random circuits, both execution plans, chunking, dtypes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import qvec
from qvec.circuit import GATES
from qvec.sim import set_memory_budget

from .reference import pauli_matrix, reference_state

NAMES = ["a", "b", "c"]


def random_circuit(rng: np.random.Generator, n_qubits: int, n_ops: int, batch: int) -> tuple[qvec.Circuit, dict]:
    """A random circuit mixing constant, shared-name, per-row-name and tensor angles."""
    circuit = qvec.Circuit(n_qubits)
    gates = [g for g in GATES.values() if g.n_qubits <= n_qubits]
    for _ in range(n_ops):
        gate = gates[rng.integers(len(gates))]
        wires = tuple(int(w) for w in rng.choice(n_qubits, gate.n_qubits, replace=False))
        angles = []
        for _ in range(gate.n_params):
            kind = rng.integers(4)
            if kind == 0:
                angles.append(float(rng.uniform(-np.pi, np.pi)))
            elif kind == 1:
                angles.append(NAMES[rng.integers(len(NAMES))])
            elif kind == 2:
                angles.append(torch.tensor(rng.uniform(-np.pi, np.pi), dtype=torch.float64))
            else:
                angles.append(torch.tensor(rng.uniform(-np.pi, np.pi, batch), dtype=torch.float64))
        circuit.append(gate.name, wires, angles)
    params = {}
    for name in circuit.parameters:
        shared = rng.integers(2) == 0
        params[name] = torch.tensor(rng.uniform(-np.pi, np.pi, () if shared else batch), dtype=torch.float64)
    return circuit, params


def reference_probs(circuit: qvec.Circuit, params: dict, batch: int) -> np.ndarray:
    return np.stack([np.abs(reference_state(circuit, params, r)) ** 2 for r in range(batch)])


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("batch", [1, 3, 80])
def test_random_circuits_match_dense_reference(seed: int, batch: int) -> None:
    rng = np.random.default_rng(seed)
    n_qubits = int(rng.integers(1, 5))
    circuit, params = random_circuit(rng, n_qubits, int(rng.integers(1, 25)), batch)
    per_row = any(v.dim() == 1 for v in params.values()) or any(t.dim() == 1 for t in circuit.tensor_angles())
    rows = batch if per_row else 1
    expected = reference_probs(circuit, params, rows)
    got = circuit.probs(params, dtype=torch.complex128)
    assert got.shape == (rows, 2**n_qubits)
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-10)


@pytest.mark.parametrize("seed", range(6))
def test_pauli_expectations_match_dense_reference(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n_qubits = 3
    circuit, params = random_circuit(rng, n_qubits, 15, 4)
    circuit.h(0).ry(1, torch.tensor(rng.uniform(0, 3, 4)))
    observables = ["Z0", "X1", "Y2", "Z0 Z1", "X0 Y1 Z2", "Y0 Y2", "X0 X1 X2", "Z2"]
    got = circuit.expval(observables, params, dtype=torch.complex128).numpy()
    for row in range(4):
        state = reference_state(circuit, params, row)
        expected = [np.vdot(state, pauli_matrix(o, n_qubits) @ state).real for o in observables]
        np.testing.assert_allclose(got[row], expected, atol=1e-10)


def test_probs_are_little_endian() -> None:
    circuit = qvec.Circuit(3).x(0)
    np.testing.assert_allclose(circuit.probs()[0].numpy(), np.eye(8)[1])
    circuit = qvec.Circuit(3).x(2)
    np.testing.assert_allclose(circuit.probs()[0].numpy(), np.eye(8)[4])
    circuit = qvec.Circuit(2).x(0).cx(0, 1)
    np.testing.assert_allclose(circuit.probs()[0].numpy(), np.eye(4)[3])


def test_contract_example() -> None:
    c = qvec.Circuit(3)
    c.h(0); c.cx(0, 1); c.ry(2, "theta")
    theta = torch.tensor([0.1, 0.2])
    e = c.expval(["Z0", "Z0 Z1", "X2"], params={"theta": theta})
    assert e.shape == (2, 3) and e.dtype == torch.float32
    np.testing.assert_allclose(e.numpy(), np.stack([np.zeros(2), np.ones(2), np.sin(theta.numpy())], 1), atol=1e-6)
    p = c.probs(params={"theta": theta})
    assert p.shape == (2, 8)


def test_chunked_execution_matches_unchunked() -> None:
    rng = np.random.default_rng(7)
    circuit, params = random_circuit(rng, 4, 30, 50)
    params["a"] = torch.tensor(rng.uniform(0, 3, 50))
    circuit.rx(0, "a")
    whole = circuit.expval(["Z0", "X1 Y2"], params, dtype=torch.complex128)
    set_memory_budget(16 * 16 * 10)
    try:
        chunked = circuit.expval(["Z0", "X1 Y2"], params, dtype=torch.complex128)
        assert qvec.sim.prepare(circuit, params).chunk_rows < 50
    finally:
        set_memory_budget(None)
    torch.testing.assert_close(chunked, whole)


def test_empty_circuit_is_ground_state() -> None:
    np.testing.assert_allclose(qvec.Circuit(2).probs()[0].numpy(), [1, 0, 0, 0])


def test_complex64_default_and_complex128_on_request() -> None:
    circuit = qvec.Circuit(2).rx(0, 0.3).cx(0, 1)
    assert circuit.probs().dtype == torch.float32
    assert circuit.probs(dtype=torch.complex128).dtype == torch.float64
    with pytest.raises(ValueError, match="dtype must be"):
        circuit.probs(dtype=torch.float32)
