"""The standard circuits the benchmarks (and some tests) are defined on."""

from __future__ import annotations

from qvec.circuit import Circuit

__all__ = ["standard_qubit_circuit"]


def standard_qubit_circuit(n_qubits: int, layers: int) -> Circuit:
    """RY(x_q) per row on every qubit, then ``layers`` of RX, RY, RZ (weights ``w{layer}_{q}_{k}``) closed by a CNOT ring."""
    circuit = Circuit(n_qubits)
    for q in range(n_qubits):
        circuit.ry(q, f"x{q}")
    for layer in range(layers):
        for q in range(n_qubits):
            circuit.rx(q, f"w{layer}_{q}_0").ry(q, f"w{layer}_{q}_1").rz(q, f"w{layer}_{q}_2")
        for q in range(n_qubits):
            circuit.cx(q, (q + 1) % n_qubits)
    return circuit
