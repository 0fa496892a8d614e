"""A dense float64 reference simulator written independently of qvec.sim, for tests only."""

from __future__ import annotations

import numpy as np

from qvec.circuit import Circuit, gate_matrix

PAULI = {"I": np.eye(2), "X": np.array([[0, 1], [1, 0]]), "Y": np.array([[0, -1j], [1j, 0]]), "Z": np.diag([1, -1])}


def embed(matrix: np.ndarray, wires: tuple[int, ...], n_qubits: int) -> np.ndarray:
    """The full-register matrix of a gate; basis index bit q is qubit q, wires[0] is the gate's MSB."""
    dim = 2**n_qubits
    full = np.zeros((dim, dim), dtype=complex)
    k = len(wires)
    for x in range(dim):
        j = sum(((x >> w) & 1) << (k - 1 - p) for p, w in enumerate(wires))
        for i in range(2**k):
            y = x
            for p, w in enumerate(wires):
                bit = (i >> (k - 1 - p)) & 1
                y = (y & ~(1 << w)) | (bit << w)
            full[y, x] += matrix[i, j]
    return full


def row_value(angle, row: int, params: dict) -> float:
    if isinstance(angle, str):
        angle = params[angle]
    if hasattr(angle, "dim"):
        return float(angle[row]) if angle.dim() == 1 else float(angle)
    if isinstance(angle, np.ndarray):
        return float(angle[row]) if angle.ndim == 1 else float(angle)
    return float(angle)


def reference_state(circuit: Circuit, params: dict, row: int) -> np.ndarray:
    state = np.zeros(2**circuit.n_qubits, dtype=complex)
    state[0] = 1
    for op in circuit.operations:
        angles = [row_value(a, row, params) for a in op.angles]
        matrix = gate_matrix(op.gate, *angles).numpy()
        state = embed(matrix, op.wires, circuit.n_qubits) @ state
    return state


def pauli_matrix(observable: str, n_qubits: int) -> np.ndarray:
    letters = ["I"] * n_qubits
    for token in observable.split():
        letters[int(token[1:])] = token[0]
    full = np.eye(1)
    for qubit in range(n_qubits - 1, -1, -1):
        full = np.kron(full, PAULI[letters[qubit]])
    return full
