"""Textbook gate matrices and a dense circuit unitary, written in numpy independently of qvec.

Matrices follow the textbook convention of ``qvec.circuit.gates``: the gate's first wire is the
most significant bit of the matrix index, so controlled gates are ``diag(I, U)`` blocks.
"""

from __future__ import annotations

import cmath
import math

import numpy as np

from qvec.circuit import Circuit, gate_matrix

I2 = np.eye(2)
X = np.array([[0, 1], [1, 0]], dtype=complex)
Y = np.array([[0, -1j], [1j, 0]])
Z = np.diag([1, -1]).astype(complex)
H = np.array([[1, 1], [1, -1]]) / math.sqrt(2)
SX = np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]]) / 2
SXDG = np.array([[1 - 1j, 1 + 1j], [1 + 1j, 1 - 1j]]) / 2
SWAP = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=complex)
ISWAP = np.array([[1, 0, 0, 0], [0, 0, 1j, 0], [0, 1j, 0, 0], [0, 0, 0, 1]])


def controlled(u: np.ndarray, n_controls: int = 1) -> np.ndarray:
    """``U`` on the last qubits, applied when every control (the leading qubits) is 1."""
    dim = u.shape[0] * 2**n_controls
    out = np.eye(dim, dtype=complex)
    out[dim - u.shape[0]:, dim - u.shape[0]:] = u
    return out


def rx(t: float) -> np.ndarray:
    return np.array([[math.cos(t / 2), -1j * math.sin(t / 2)], [-1j * math.sin(t / 2), math.cos(t / 2)]])


def ry(t: float) -> np.ndarray:
    return np.array([[math.cos(t / 2), -math.sin(t / 2)], [math.sin(t / 2), math.cos(t / 2)]], dtype=complex)


def rz(t: float) -> np.ndarray:
    return np.diag([cmath.exp(-0.5j * t), cmath.exp(0.5j * t)])


def phase(lam: float) -> np.ndarray:
    return np.diag([1, cmath.exp(1j * lam)])


def u(theta: float, phi: float, lam: float) -> np.ndarray:
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    return np.array([[c, -cmath.exp(1j * lam) * s], [cmath.exp(1j * phi) * s, cmath.exp(1j * (phi + lam)) * c]])


def rxx(t: float) -> np.ndarray:
    c, s = math.cos(t / 2), math.sin(t / 2)
    return np.array([[c, 0, 0, -1j * s], [0, c, -1j * s, 0], [0, -1j * s, c, 0], [-1j * s, 0, 0, c]])


def ryy(t: float) -> np.ndarray:
    c, s = math.cos(t / 2), math.sin(t / 2)
    return np.array([[c, 0, 0, 1j * s], [0, c, -1j * s, 0], [0, -1j * s, c, 0], [1j * s, 0, 0, c]])


def rzz(t: float) -> np.ndarray:
    a, b = cmath.exp(-0.5j * t), cmath.exp(0.5j * t)
    return np.diag([a, b, b, a])


# The IR's gates: name -> textbook matrix as a function of the angles.
IR_GATES = {
    "h": lambda: H, "x": lambda: X, "y": lambda: Y, "z": lambda: Z,
    "s": lambda: np.diag([1, 1j]), "sdg": lambda: np.diag([1, -1j]),
    "t": lambda: np.diag([1, cmath.exp(1j * math.pi / 4)]), "tdg": lambda: np.diag([1, cmath.exp(-1j * math.pi / 4)]),
    "sx": lambda: SX, "sxdg": lambda: SXDG, "rx": rx, "ry": ry, "rz": rz, "p": phase, "u": u,
    "cx": lambda: controlled(X), "cy": lambda: controlled(Y), "cz": lambda: controlled(Z), "swap": lambda: SWAP,
    "crx": lambda t: controlled(rx(t)), "cry": lambda t: controlled(ry(t)), "crz": lambda t: controlled(rz(t)),
    "rxx": rxx, "ryy": ryy, "rzz": rzz, "ccx": lambda: controlled(X, 2),
    "ch": lambda: controlled(H), "cp": lambda lam: controlled(phase(lam)), "cswap": lambda: controlled(SWAP),
    "iswap": lambda: ISWAP,
}


def embed(matrix: np.ndarray, wires: tuple[int, ...], n_qubits: int) -> np.ndarray:
    """A gate's matrix on the whole register, qubit 0 the most significant bit (as gate matrices are)."""
    rest = [q for q in range(n_qubits) if q not in wires]
    full = np.kron(matrix, np.eye(2 ** len(rest))).reshape([2] * (2 * n_qubits))
    order = list(wires) + rest                      # the axis order of ``full``, outputs then inputs
    inverse = np.argsort(order)
    full = full.transpose([*inverse, *(n_qubits + inverse)])
    return full.reshape(2**n_qubits, 2**n_qubits)


def circuit_unitary(circuit: Circuit) -> np.ndarray:
    """The circuit's unitary from qvec's gate matrices (checked against IR_GATES in test_gates)."""
    n = circuit.n_qubits
    total = np.eye(2**n, dtype=complex)
    for op in circuit:
        matrix = gate_matrix(op.gate, *(float(a) for a in op.angles)).numpy()
        total = embed(matrix, op.wires, n) @ total
    return total


def equal_up_to_phase(a: np.ndarray, b: np.ndarray, atol: float = 1e-9) -> bool:
    """Whether two unitaries differ by a global phase only."""
    index = np.unravel_index(np.argmax(np.abs(b)), b.shape)
    if abs(a[index]) < atol:
        return False
    return np.allclose(a * (b[index] / a[index]), b, atol=atol)
