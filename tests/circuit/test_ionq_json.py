"""IonQ circuit JSON: writing every IR gate, reading both spellings and the native gates.

References: the dense unitaries of ``reference.py`` and IonQ's published native gate matrices.
"""

import math

import numpy as np
import pytest

import qvec
from qvec.circuit import GATES
from qvec.circuit.ionq_json import circuit_from_ionq, ionq_gates
from qvec.errors import InputError

from .reference import circuit_unitary, equal_up_to_phase

QIS_NAMES = {"x", "y", "z", "h", "s", "si", "t", "ti", "v", "vi", "rx", "ry", "rz", "not", "cnot", "swap", "xx", "yy", "zz"}


@pytest.mark.parametrize("gate", sorted(GATES))
def test_every_gate_survives_a_round_trip(gate):
    definition = GATES[gate]
    wires = (2, 0, 1)[: definition.n_qubits]
    circuit = qvec.Circuit(3).append(gate, wires, (0.37, -1.1, 2.3)[: definition.n_params])
    gates = ionq_gates(circuit)
    assert {g["gate"] for g in gates} <= QIS_NAMES
    assert equal_up_to_phase(circuit_unitary(circuit_from_ionq(gates, 3)), circuit_unitary(circuit))


def test_both_cnot_spellings_read_as_cx():
    qiskit = circuit_from_ionq([{"gate": "h", "targets": [0]}, {"gate": "x", "controls": [0], "targets": [1]}], 2)
    cirq = circuit_from_ionq([{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}], 2)
    assert qiskit == cirq == qvec.Circuit(2).h(0).cx(0, 1)
    assert np.allclose(np.abs(circuit_unitary(qiskit)[:, 0]) ** 2, [0.5, 0, 0, 0.5])


def _gpi(phi):
    return np.array([[0, np.exp(-1j * phi)], [np.exp(1j * phi), 0]])


def _gpi2(phi):
    return np.array([[1, -1j * np.exp(-1j * phi)], [-1j * np.exp(1j * phi), 1]]) / math.sqrt(2)


def _ms(phi0, phi1, theta):
    """IonQ's MS gate; theta in radians (0.25 turns = pi/2 is fully entangling); qubit 0 the high bit."""
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    return np.array([
        [c, 0, 0, -1j * s * np.exp(-1j * (phi0 + phi1))],
        [0, c, -1j * s * np.exp(-1j * (phi0 - phi1)), 0],
        [0, -1j * s * np.exp(1j * (phi0 - phi1)), c, 0],
        [-1j * s * np.exp(1j * (phi0 + phi1)), 0, 0, c],
    ])


def test_native_gates_match_their_definitions():
    phases = (0.1, 0.35, 0.2)
    circuit = circuit_from_ionq([{"gate": "gpi", "target": 0, "phase": phases[0]},
                                 {"gate": "gpi2", "target": 1, "phase": phases[1]},
                                 {"gate": "ms", "targets": [0, 1], "phases": [phases[2], phases[0]], "angle": 0.2}],
                                2, "native")
    turn = 2 * math.pi
    expected = _ms(turn * phases[2], turn * phases[0], turn * 0.2) @ np.kron(_gpi(turn * phases[0]), _gpi2(turn * phases[1]))
    assert equal_up_to_phase(circuit_unitary(circuit), expected)


def test_native_zz_takes_turns():
    circuit = circuit_from_ionq([{"gate": "zz", "targets": [0, 1], "angle": 0.125}], 2, "native")
    assert equal_up_to_phase(circuit_unitary(circuit), np.diag(np.exp(-1j * math.pi * 0.125 * np.array([1, -1, -1, 1]))))  # exp(-i pi theta ZZ)


def test_unknown_and_unbound_gates_are_input_errors():
    with pytest.raises(InputError, match="gate 0"):
        circuit_from_ionq([{"gate": "frobnicate", "targets": [0]}], 1)
    with pytest.raises(InputError, match="unbound angle"):
        ionq_gates(qvec.Circuit(1).rx(0, "theta"))
