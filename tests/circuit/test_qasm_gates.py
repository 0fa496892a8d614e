"""Every qelib1 gate loads as IR gates whose product is the gate's textbook matrix (up to global phase)."""

from __future__ import annotations

import cmath
import math

import numpy as np
import pytest

from qvec.circuit import GATES, parse_qasm
from qvec.circuit.qasm_gates import EXPORT_DEFINITIONS, EXPORT_NAMES, QELIB1_NATIVE_GATES, QELIB1_STANDARD

from .reference import (
    H, I2, IR_GATES, SWAP, SX, SXDG, X, circuit_unitary, controlled, embed, equal_up_to_phase, phase, u,
)

# Qiskit's documented RCCX matrix, rewritten with the first qubit as the most significant bit.
RCCX = np.eye(8, dtype=complex)
RCCX[5, 5] = -1
RCCX[6:, 6:] = [[0, -1j], [1j, 0]]

# qelib1 gates that are not IR gates under the same name: (n_qubits, textbook matrix of the angles).
QELIB1_EXTRA = {
    "U": (1, u), "CX": (2, lambda: controlled(X)), "cnot": (2, lambda: controlled(X)),
    "u3": (1, u), "u2": (1, lambda phi, lam: u(math.pi / 2, phi, lam)), "u1": (1, phase),
    "id": (1, lambda: I2), "u0": (1, lambda gamma: I2), "sxdg": (1, lambda: SXDG),
    "ch": (2, lambda: controlled(H)), "cswap": (3, lambda: controlled(SWAP)),
    "cu1": (2, lambda lam: controlled(phase(lam))), "cp": (2, lambda lam: controlled(phase(lam))),
    "cu3": (2, lambda t, p, lam: controlled(u(t, p, lam))), "csx": (2, lambda: controlled(SX)),
    "cu": (2, lambda t, p, lam, g: controlled(cmath.exp(1j * g) * u(t, p, lam))),
    "rccx": (3, lambda: RCCX), "c3x": (4, lambda: controlled(X, 3)),
    "c3sqrtx": (4, lambda: controlled(SX, 3)), "c4x": (5, lambda: controlled(X, 4)),
}
QELIB1 = {**{name: (GATES[name].n_qubits, IR_GATES[name]) for name in GATES if name not in ("ryy", "iswap")},
          **QELIB1_EXTRA}
ANGLES = (0.7, -1.3, 2.2, 0.4)


def n_angles(matrix_of) -> int:
    return matrix_of.__code__.co_argcount


def call(name: str, angles: tuple[float, ...], wires: list[int]) -> str:
    arguments = f"({','.join(map(repr, angles))})" if angles else ""
    return f"{name}{arguments} {','.join(f'q[{w}]' for w in wires)};"


def load(statements: list[str], n_qubits: int):
    return parse_qasm('OPENQASM 2.0;\ninclude "qelib1.inc";\n' + f"qreg q[{n_qubits}];\n" + "\n".join(statements))


@pytest.mark.parametrize("name", sorted(QELIB1))
def test_qelib1_gate_matches_its_textbook_matrix(name: str) -> None:
    n_qubits, matrix_of = QELIB1[name]
    angles = ANGLES[: n_angles(matrix_of)]
    circuit = load([call(name, angles, list(range(n_qubits)))], n_qubits)
    assert equal_up_to_phase(circuit_unitary(circuit), matrix_of(*angles))


def test_relative_phase_toffoli_of_four_qubits() -> None:
    """rc3x is c3x up to phases on the basis states (its defining property)."""
    unitary = circuit_unitary(load([call("rc3x", (), [0, 1, 2, 3])], 4))
    relative = unitary @ controlled(X, 3).conj().T
    assert np.allclose(relative, np.diag(np.diag(relative)), atol=1e-12)
    assert np.allclose(np.abs(np.diag(relative)), 1)


def test_a_file_calling_every_qelib1_gate() -> None:
    """One program with every gate on shuffled wires equals the product of the textbook matrices."""
    rng = np.random.default_rng(7)
    statements, expected = [], np.eye(2**5, dtype=complex)
    for name, (n_qubits, matrix_of) in sorted(QELIB1.items()):
        wires = [int(w) for w in rng.permutation(5)[:n_qubits]]
        angles = tuple(float(a) for a in rng.uniform(-3, 3, n_angles(matrix_of)))
        statements.append(call(name, angles, wires))
        expected = embed(matrix_of(*angles), tuple(wires), 5) @ expected
    circuit = load(statements, 5)
    assert circuit.n_qubits == 5
    assert equal_up_to_phase(circuit_unitary(circuit), expected)


def test_ir_gates_load_as_themselves_and_aliases_as_their_ir_gate() -> None:
    circuit = load(["u3(0.1,0.2,0.3) q[0];", "u1(0.4) q[1];", "u2(0.5,0.6) q[0];", "CX q[1],q[0];", "id q[0];",
                    "crz(0.7) q[0],q[1];"], 2)
    assert [(op.gate, op.wires, op.angles) for op in circuit] == [
        ("u", (0,), (0.1, 0.2, 0.3)), ("p", (1,), (0.4,)), ("u", (0,), (math.pi / 2, 0.5, 0.6)), ("cx", (1, 0), ()),
        ("crz", (0, 1), (0.7,)),
    ]


def test_every_ir_gate_is_exported_as_exactly_one_standard_qelib1_gate_or_definition() -> None:
    for name in GATES:
        ways = [name in QELIB1_STANDARD, name in EXPORT_NAMES, name in EXPORT_DEFINITIONS]
        assert sum(ways) == 1, name
    assert set(EXPORT_NAMES.values()) <= QELIB1_STANDARD


@pytest.mark.parametrize("name", sorted(EXPORT_DEFINITIONS))
def test_export_definitions_are_exactly_the_ir_gates(name: str) -> None:
    """Renamed, so that the loader expands the body rather than recognising the IR gate; exact, phase included."""
    definition = EXPORT_DEFINITIONS[name]
    n_qubits = GATES[name].n_qubits
    angles = (0.9,) * GATES[name].n_params
    renamed = definition.replace(f"gate {name} ", "gate written ", 1).replace(f"gate {name}(", "gate written(", 1)
    expanded = load([renamed, call("written", angles, list(range(n_qubits)))], n_qubits)
    assert len(expanded) > 1
    assert np.allclose(circuit_unitary(expanded), IR_GATES[name](*angles), atol=1e-12), name


def test_export_definitions_call_only_standard_qelib1_gates() -> None:
    for name, definition in EXPORT_DEFINITIONS.items():
        body = definition[definition.index("{") + 1: definition.rindex("}")]
        called = {statement.split()[0].split("(")[0] for statement in body.split(";") if statement.strip()}
        assert called <= QELIB1_STANDARD, (name, called - QELIB1_STANDARD)
