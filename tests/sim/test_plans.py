"""The engine's cache of compiled programs (``qvec.sim.simulate.PlanCache``): kept by the engine, not on the
circuit, hit on a second run, bounded, and keyed so that an appended circuit runs as the new circuit."""

from __future__ import annotations

import gc

import numpy as np
import torch

import qvec
from qvec.circuit import bind_parameters
from qvec.sim.program import Program
from qvec.sim.simulate import PLANS, PlanCache

from .reference import reference_state


def ring(n_qubits: int, depth: int) -> qvec.Circuit:
    circuit = qvec.Circuit(n_qubits)
    for layer in range(depth):
        for q in range(n_qubits):
            circuit.ry(q, f"t{layer}_{q}").cx(q, (q + 1) % n_qubits)
    return circuit


def compile_with(cache: PlanCache, circuit: qvec.Circuit, params: dict) -> object:
    batch = bind_parameters(circuit.parameters, params, circuit.tensor_angles())
    return cache.program(circuit, batch, circuit.tensor_angles())


def test_a_second_run_of_a_circuit_reads_the_cached_program() -> None:
    circuit = ring(3, 2)
    params = {name: 0.1 * i for i, name in enumerate(circuit.parameters)}
    first = qvec.sim.prepare(circuit, params).program
    compiled = PLANS.compilations
    again = qvec.sim.prepare(circuit, params).program
    assert again is first and PLANS.compilations == compiled


def test_per_row_values_compile_their_own_program_once() -> None:
    cache, circuit = PlanCache(8), ring(3, 1)
    shared = {name: 0.3 for name in circuit.parameters}
    per_row = dict(shared, t0_1=torch.tensor([0.1, 0.2]))
    programs = [compile_with(cache, circuit, p) for p in (shared, per_row, shared, per_row)]
    assert cache.compilations == 2 and programs[0] is programs[2] and programs[1] is programs[3]
    assert not programs[0].row_ops and programs[1].row_ops


def test_the_cache_is_bounded_least_recently_used_first() -> None:
    cache = PlanCache(4)
    circuits = [ring(2, 1 + i) for i in range(10)]
    for circuit in circuits:
        compile_with(cache, circuit, {name: 0.2 for name in circuit.parameters})
    assert len(cache) <= 4
    compiled = cache.compilations
    compile_with(cache, circuits[-1], {name: 0.2 for name in circuits[-1].parameters})
    assert cache.compilations == compiled  # the most recent one is still there
    compile_with(cache, circuits[0], {name: 0.2 for name in circuits[0].parameters})
    assert cache.compilations == compiled + 1  # the oldest was dropped


def test_appending_after_a_run_gives_the_new_circuits_results() -> None:
    circuit = ring(3, 1)
    params = {name: 0.4 + 0.3 * i for i, name in enumerate(circuit.parameters)}
    before = qvec.sim.simulate(circuit, params, dtype=torch.complex128)[0].numpy()
    np.testing.assert_allclose(before, reference_state(circuit, params, 0), atol=1e-12)
    circuit.rx(1, 0.7).h(0)
    after = qvec.sim.simulate(circuit, params, dtype=torch.complex128)[0].numpy()
    np.testing.assert_allclose(after, reference_state(circuit, params, 0), atol=1e-12)
    assert not np.allclose(before, after)


def test_the_circuit_holds_no_engine_state_and_the_engine_no_dead_circuit() -> None:
    circuit = ring(2, 1)
    qvec.sim.probs(circuit, {name: 0.5 for name in circuit.parameters})
    assert not hasattr(qvec.Circuit, "memo")
    held = {key: value for key, value in vars(circuit).items() if value is not None}
    assert set(held) <= {"n_qubits", "_operations", "_parameters", "_tensor_angles"}
    assert not any(isinstance(v, Program) for v in held.values())
    cache = PlanCache(8)
    compile_with(cache, circuit, {name: 0.5 for name in circuit.parameters})
    reference = next(iter(cache._entries.values()))[0]
    del circuit
    gc.collect()
    assert reference() is None  # the cache kept no strong reference to the circuit
