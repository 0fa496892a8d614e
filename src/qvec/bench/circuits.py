"""The standard circuits the benchmarks (and some tests) are defined on."""

from __future__ import annotations

from qvec.circuit import Circuit
from qvec.photonic import Circuit as PhotonicCircuit

__all__ = ["gan_generator_circuit", "standard_qubit_circuit"]


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


def gan_generator_circuit(n_modes: int, layers: int) -> tuple[PhotonicCircuit, list[str], list[str]]:
    """A CV-GAN generator: the latent ``z{m}`` as a displacement D(z_m, 0) per mode, then ``layers`` of Killoran's
    CV neural-network layer (``qvec.nn.cv_neural_net``). Returns the circuit, its input names and its weight names."""
    from qvec.nn import cv_neural_net

    circuit = PhotonicCircuit(n_modes)
    inputs = [f"z{m}" for m in range(n_modes)]
    for mode, name in enumerate(inputs):
        circuit.d(mode, name, 0.0)
    circuit, weights = cv_neural_net(n_modes, layers, circuit=circuit)
    return circuit, inputs, weights
