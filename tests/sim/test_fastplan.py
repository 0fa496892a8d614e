"""Which circuits the fast path compiles, and its atoms against the gate matrices they stand for."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qvec.circuit import Circuit, gate_matrix
from qvec.circuit.observables import expand_observables
from qvec.sim.fastplan import FAST_MAX_QUBITS, _gate_atoms, compile_fast_plan
from qvec.sim.simulate import PLANS


def plan(circuit: Circuit, layout):
    strings = expand_observables(["Z0"], circuit.n_qubits).strings
    return compile_fast_plan(circuit.n_qubits, PLANS.gate_specs(circuit)[0], layout, strings, torch.complex64)


def test_single_qubit_gates_and_permutations_compile() -> None:
    circuit = Circuit(3).ry(0, "x").rx(1, "w").h(2).cx(0, 1).cz(1, 2).ccx(0, 1, 2).u(2, "w", 0.1, "x")
    assert plan(circuit, ((("w",), False), (("x",), True))) is None  # u reads a shared and a per-row name
    circuit = Circuit(3).ry(0, "x").rx(1, "w").h(2).cx(0, 1).cz(1, 2).ccx(0, 1, 2).u(2, "w", 0.1, "w")
    assert plan(circuit, ((("w",), False), (("x",), True))) is not None


@pytest.mark.parametrize("circuit", [
    Circuit(2).ry(0, "w").rzz(0, 1, "w"),             # a parametrized two-qubit gate
    Circuit(2).ry(0, "w").rx(1, torch.tensor(0.3)),   # a tensor angle
    Circuit(2).cx(0, 1).ry(0, "w"),                   # not starting with a layer
    Circuit(FAST_MAX_QUBITS + 1).ry(0, "w"),          # too many qubits
])
def test_other_circuits_keep_the_general_path(circuit: Circuit) -> None:
    assert plan(circuit, ((("w",), False),)) is None


@pytest.mark.parametrize("gate, angles", [("rx", (0.7,)), ("ry", (-1.2,)), ("rz", (2.5,)), ("p", (0.4,)),
                                          ("u", (0.3, -0.8, 1.9)), ("h", ()), ("sx", ()), ("t", ())])
def test_atoms_multiply_to_the_gate_matrix(gate: str, angles: tuple[float, ...]) -> None:
    sources = tuple(("name", f"a{i}") for i in range(len(angles)))
    values = {f"a{i}": v for i, v in enumerate(angles)}
    product = np.eye(2, dtype=complex)
    for a0, a1, b0, b1, p0, p1, source in _gate_atoms(gate, sources):
        t = values[source[1]] if source is not None else 0.0
        product = (np.exp(1j * (a0 * t + b0)) * p0 + np.exp(1j * (a1 * t + b1)) * p1) @ product
    np.testing.assert_allclose(product, gate_matrix(gate, *angles).numpy(), atol=1e-12)
