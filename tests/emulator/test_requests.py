"""The emulator's request checks agree with the client on the targets it serves."""

from qvec.backends.ionq.targets import TARGET_QUBITS as CLIENT_TARGETS
from qvec.emulator.requests import TARGET_QUBITS


def test_the_emulator_serves_the_clients_targets_with_the_same_widths():
    assert TARGET_QUBITS == CLIENT_TARGETS
