"""Compiling a circuit: merged permutation gates act as the gates they replace, built from local tables."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import qvec
from qvec.circuit import GATES
from qvec.sim import program
from qvec.sim.program import MonomialSpec, compile_program
from qvec.sim.simulate import PLANS

from .reference import reference_state

CONSTANT_MULTI_QUBIT = sorted(g.name for g in GATES.values() if g.n_qubits > 1 and g.n_params == 0)


@pytest.fixture
def small_monomial_limit(monkeypatch: pytest.MonkeyPatch):
    """Merge at most 3 wires per table, so that 5-qubit circuits exercise tables on part of the register."""
    compile_program.cache_clear()
    PLANS.clear()
    monkeypatch.setattr(program, "MONOMIAL_MAX_QUBITS", 3)
    yield
    compile_program.cache_clear()
    PLANS.clear()


def random_permutation_circuit(rng: np.random.Generator, n_qubits: int, n_ops: int) -> qvec.Circuit:
    """Runs of constant multi-qubit gates (the ones merged), separated now and then by a rotation."""
    circuit = qvec.Circuit(n_qubits)
    for qubit in range(n_qubits):
        circuit.ry(qubit, float(rng.uniform(0, 3))).rz(qubit, float(rng.uniform(0, 3)))
    for _ in range(n_ops):
        if rng.uniform() < 0.15:
            circuit.rx(int(rng.integers(n_qubits)), float(rng.uniform(0, 3)))
            continue
        gate = GATES[CONSTANT_MULTI_QUBIT[rng.integers(len(CONSTANT_MULTI_QUBIT))]]
        wires = tuple(int(w) for w in rng.choice(n_qubits, gate.n_qubits, replace=False))
        circuit.append(gate.name, wires, [])
    return circuit


@pytest.mark.parametrize("seed", range(8))
def test_merged_permutations_match_dense_reference(seed: int, small_monomial_limit) -> None:
    rng = np.random.default_rng(seed)
    circuit = random_permutation_circuit(rng, 5, 30)
    got = qvec.sim.simulate(circuit, dtype=torch.complex128)[0].numpy()
    np.testing.assert_allclose(got, reference_state(circuit, {}, 0), atol=1e-12)
    monomials = [s for s in qvec.sim.prepare(circuit).program.steps if isinstance(s, MonomialSpec)]
    assert monomials and all(len(s.wires) <= 3 and len(s.source) == 2 ** len(s.wires) for s in monomials)


@pytest.mark.parametrize("seed", range(4))
def test_whole_register_tables_on_small_registers_match_dense_reference(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    circuit = random_permutation_circuit(rng, 4, 25)
    got = qvec.sim.simulate(circuit, dtype=torch.complex128)[0].numpy()
    np.testing.assert_allclose(got, reference_state(circuit, {}, 0), atol=1e-12)


def _image(table: MonomialSpec, basis_state: int) -> int:
    """The basis state a table sends ``basis_state`` to (``new[y] = old[source[y]]``: y with source[y] = x)."""
    local = sum(((basis_state >> w) & 1) << (len(table.wires) - 1 - p) for p, w in enumerate(table.wires))
    image = int(np.flatnonzero(table.source == local)[0])
    for p, w in enumerate(table.wires):
        bit = (image >> (len(table.wires) - 1 - p)) & 1
        basis_state = (basis_state & ~(1 << w)) | (bit << w)
    return basis_state


def test_a_wide_cnot_ladder_compiles_to_small_tables_that_act_as_the_ladder() -> None:
    """40 qubits: a table over the register would need 2**40 entries; the tables stay within the limit."""
    n_qubits = 40
    gates = tuple(("cx", (q, q + 1), ()) for q in range(n_qubits - 1))
    tables = compile_program(n_qubits, gates, frozenset()).steps
    assert all(isinstance(t, MonomialSpec) and t.phase is None for t in tables)
    assert all(len(t.source) == 2 ** len(t.wires) <= 2**program.MONOMIAL_MAX_QUBITS for t in tables)
    rng = np.random.default_rng(0)
    for basis_state in [int(x) for x in rng.integers(0, 2**n_qubits, 5)]:
        expected = basis_state
        for q in range(n_qubits - 1):
            expected ^= ((expected >> q) & 1) << (q + 1)
        got = basis_state
        for table in tables:
            got = _image(table, got)
        assert got == expected
