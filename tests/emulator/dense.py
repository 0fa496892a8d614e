"""A dense numpy statevector reference for IonQ QIS gate lists (little-endian: bit i is qubit i)."""

import numpy as np

_H = np.array([[1, 1], [1, -1]]) / np.sqrt(2)
_X = np.array([[0, 1], [1, 0]])
_Y = np.array([[0, -1j], [1j, 0]])
_Z = np.diag([1, -1])
_FIXED = {"h": _H, "x": _X, "y": _Y, "z": _Z, "s": np.diag([1, 1j]), "t": np.diag([1, np.exp(1j * np.pi / 4)])}


def _rotation(pauli: np.ndarray, angle: float) -> np.ndarray:
    return np.cos(angle / 2) * np.eye(2) - 1j * np.sin(angle / 2) * pauli


def _apply(state: np.ndarray, matrix: np.ndarray, qubit: int, n: int, control: int | None = None) -> np.ndarray:
    tensor = state.reshape([2] * n)  # axis k is qubit n - 1 - k
    axis = n - 1 - qubit
    moved = np.moveaxis(np.tensordot(matrix, tensor, axes=([1], [axis])), 0, axis)
    if control is None:
        return moved.reshape(-1)
    indices = np.arange(2**n)
    return np.where((indices >> control) & 1, moved.reshape(-1), state)


def dense_probabilities(gates: list[dict], n: int) -> np.ndarray:
    """Probabilities ``[2**n]`` of a QIS gate list (gates h x y z s t rx ry rz, cnot, zz) from |0...0>."""
    state = np.zeros(2**n, dtype=complex)
    state[0] = 1
    for gate in gates:
        name, targets = gate["gate"], gate["targets"]
        if name == "cnot":
            state = _apply(state, _X, targets[0], n, control=gate["controls"][0])
        elif name == "zz":
            bits = np.arange(2**n)
            parity = ((bits >> targets[0]) ^ (bits >> targets[1])) & 1
            state = state * np.exp(-0.5j * gate["rotation"] * (1 - 2 * parity))
        elif name in ("rx", "ry", "rz"):
            state = _apply(state, _rotation({"rx": _X, "ry": _Y, "rz": _Z}[name], gate["rotation"]), targets[0], n)
        else:
            state = _apply(state, _FIXED[name], targets[0], n)
    return np.abs(state) ** 2
