"""Readouts: weighted sums of Pauli strings against dense matrices built here with numpy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import qvec
from qvec.circuit import Hamiltonian, expand_observables
from qvec.sim.measure import observable_expectations

PAULI = {"I": np.eye(2), "X": np.array([[0, 1], [1, 0]]), "Y": np.array([[0, -1j], [1j, 0]]), "Z": np.diag([1, -1])}


def dense(terms: list[tuple[float, dict[int, str]]], n_qubits: int) -> np.ndarray:
    """``sum_k c_k P_k`` on the register, qubit 0 the least significant bit (the rightmost factor)."""
    total = np.zeros((2**n_qubits, 2**n_qubits), dtype=complex)
    for coefficient, letters in terms:
        product = np.eye(1)
        for qubit in reversed(range(n_qubits)):
            product = np.kron(product, PAULI[letters.get(qubit, "I")])
        total += coefficient * product
    return total


def random_states(rows: int, n_qubits: int, seed: int) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    states = rng.normal(size=(rows, 2**n_qubits)) + 1j * rng.normal(size=(rows, 2**n_qubits))
    return torch.tensor(states / np.linalg.norm(states, axis=1, keepdims=True))


@pytest.mark.parametrize("seed", range(4))
def test_weighted_sums_match_the_dense_matrix(seed: int) -> None:
    n = 3
    states = random_states(5, n, seed)
    observables = ["0.5*Z0 Z1 - 0.2*X0", "X1 Y2", "-1.5*Y0 X1 Z2 + 2 - X1 Y2", Hamiltonian([(0.7, "Z2"), (0.3, "X0 X1")])]
    matrices = [
        dense([(0.5, {0: "Z", 1: "Z"}), (-0.2, {0: "X"})], n),
        dense([(1.0, {1: "X", 2: "Y"})], n),
        dense([(-1.5, {0: "Y", 1: "X", 2: "Z"}), (2.0, {}), (-1.0, {1: "X", 2: "Y"})], n),
        dense([(0.7, {2: "Z"}), (0.3, {0: "X", 1: "X"})], n),
    ]
    terms = expand_observables(observables, n)
    assert len(terms.strings) == 7  # X1 Y2 is read once for the two observables that use it
    got = observable_expectations(states, terms, n)
    psi = states.numpy()
    expected = np.stack([np.einsum("bi,ij,bj->b", psi.conj(), m, psi).real for m in matrices], axis=1)
    assert got.shape == (5, 4)
    assert np.allclose(got.numpy(), expected, atol=1e-12)


def test_circuit_expval_of_a_hamiltonian_matches_the_dense_matrix_and_differentiates() -> None:
    theta = torch.tensor([0.3, -1.1, 2.0], dtype=torch.float64, requires_grad=True)
    circuit = qvec.Circuit(2).ry(0, "t").cx(0, 1).rx(1, 0.4)
    hamiltonian = 0.5 * Hamiltonian.parse("Z0 Z1") - 0.2 * Hamiltonian.parse("X0") + Hamiltonian.parse("Y1")
    values = circuit.expval(hamiltonian, {"t": theta}, dtype=torch.complex128)[:, 0]
    states = circuit.statevector({"t": theta.detach()}, dtype=torch.complex128).numpy()
    matrix = dense([(0.5, {0: "Z", 1: "Z"}), (-0.2, {0: "X"}), (1.0, {1: "Y"})], 2)
    assert np.allclose(values.detach().numpy(), np.einsum("bi,ij,bj->b", states.conj(), matrix, states).real)
    values.sum().backward()
    step = 1e-6
    shifted = [circuit.expval(hamiltonian, {"t": theta.detach() + s}, dtype=torch.complex128)[:, 0] for s in (step, -step)]
    assert torch.allclose(theta.grad, (shifted[0] - shifted[1]) / (2 * step), atol=1e-7)


def test_plain_strings_keep_their_fast_path() -> None:
    assert expand_observables(["Z0", "X1 Y0"], 2).weights is None
