"""Circuit.specs(): qubits, operations, depth, gate counts, parameters."""

from __future__ import annotations

import qvec
from qvec.circuit import CircuitSpecs


def test_specs_of_a_small_circuit() -> None:
    circuit = qvec.Circuit(3).h(0).h(1).cx(0, 1).ry(2, "b").rz(2, "a").cx(1, 2).ry(0, "b")
    specs = circuit.specs()
    assert specs == CircuitSpecs(n_qubits=3, n_operations=7, depth=3,
                                 gate_counts={"h": 2, "cx": 2, "ry": 2, "rz": 1}, parameters=["b", "a"])
    assert "depth=3" in repr(specs) and "gate_counts={'h': 2" in repr(specs)


def test_depth_counts_time_steps_not_gates() -> None:
    assert qvec.Circuit(4).h(0).h(1).h(2).h(3).specs().depth == 1
    assert qvec.Circuit(2).h(0).h(0).h(0).specs().depth == 3
    assert qvec.Circuit(3).cx(0, 2).h(1).specs().depth == 1  # a gate's span is not its qubits
    assert qvec.Circuit(1).specs() == CircuitSpecs(1, 0, 0, {}, [])
