"""A dense numpy reference for the nn tests, written from textbook matrices independently of qvec's gates.

Basis index bit q is qubit q (qvec's convention); a two-qubit matrix's first wire is its most significant bit.
"""

from __future__ import annotations

import math

import numpy as np

H = np.array([[1, 1], [1, -1]]) / math.sqrt(2)
CX = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=complex)


def rx(t: float) -> np.ndarray:
    return np.array([[math.cos(t / 2), -1j * math.sin(t / 2)], [-1j * math.sin(t / 2), math.cos(t / 2)]])


def ry(t: float) -> np.ndarray:
    return np.array([[math.cos(t / 2), -math.sin(t / 2)], [math.sin(t / 2), math.cos(t / 2)]], dtype=complex)


def rz(t: float) -> np.ndarray:
    return np.diag([np.exp(-0.5j * t), np.exp(0.5j * t)])


def rzz(t: float) -> np.ndarray:
    return np.diag(np.exp(-0.5j * t * np.array([1, -1, -1, 1])))


GATES = {"h": lambda: H, "cx": lambda: CX, "rx": rx, "ry": ry, "rz": rz, "rzz": rzz}


def apply(state: np.ndarray, matrix: np.ndarray, wires: tuple[int, ...], n_qubits: int) -> np.ndarray:
    """``matrix`` on ``wires`` of a state ``[2**n]`` (index bit q is qubit q)."""
    tensor = state.reshape([2] * n_qubits)  # axis a is qubit n - 1 - a
    axes = [n_qubits - 1 - w for w in wires]
    k = len(wires)
    moved = np.moveaxis(tensor, axes, range(k)).reshape(2**k, -1)
    out = (matrix @ moved).reshape([2] * n_qubits)
    return np.moveaxis(out, range(k), axes).reshape(-1)


def dense_state(circuit, values: dict[str, float]) -> np.ndarray:
    """The final state of ``circuit`` from |0...0>, its named angles taken from ``values``."""
    n = circuit.n_qubits
    state = np.zeros(2**n, dtype=complex)
    state[0] = 1
    for op in circuit:
        angles = [values[a] if isinstance(a, str) else float(a) for a in op.angles]
        state = apply(state, GATES[op.gate](*angles), op.wires, n)
    return state


def z_expectation(state: np.ndarray, qubit: int) -> float:
    signs = 1 - 2 * ((np.arange(state.size) >> qubit) & 1)
    return float(np.sum(signs * np.abs(state) ** 2))
