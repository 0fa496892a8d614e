"""IonQ targets and how many qubits each has (the emulator serves the same table)."""

from __future__ import annotations

__all__ = ["TARGET_QUBITS", "target_qubits"]

TARGET_QUBITS: dict[str, int] = {
    "simulator": 29,
    "qpu.aria-1": 25,
    "qpu.aria-2": 25,
    "qpu.forte-1": 36,
    "qpu.forte-enterprise-1": 36,
}


def target_qubits(target: str) -> int | None:
    """Qubits of a known target; ``None`` when the table does not know it."""
    return TARGET_QUBITS.get(target)
