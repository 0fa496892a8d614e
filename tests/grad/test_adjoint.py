"""Adjoint gradients against torch autograd through qvec.sim (complex128) and against finite differences."""

import random

import pytest
import torch

from qvec import sim
from qvec.circuit import GATES, Circuit, Hamiltonian, ScaledParameter
from qvec.errors import InputError
from qvec.grad.adjoint import adjoint_expval

F64 = torch.float64
PARAMETRIZED = sorted(name for name, gate in GATES.items() if gate.n_params)
CONSTANT = sorted(name for name, gate in GATES.items() if not gate.n_params)


def _random_case(seed: int, n_qubits: int, batch: int, extra_gates: int = 10):
    """Every gate kind at least once on random wires; angles from shared, per-row, repeated, scaled and tensor sources."""
    rng = random.Random(seed)
    torch.manual_seed(seed)
    leaves = {
        "a": torch.rand((), dtype=F64, requires_grad=True),                  # shared
        "x": torch.rand(batch, dtype=F64, requires_grad=True),               # per row
        "shared_tensor": torch.rand((), dtype=F64, requires_grad=True),      # a tensor angle
        "row_tensor": torch.rand(batch, dtype=F64, requires_grad=True),      # a per-row tensor angle
    }
    params = {"a": leaves["a"], "x": leaves["x"], "fixed": torch.rand(batch, dtype=F64), "c": 0.4}
    sources = ["a", "x", "a", "x", "fixed", "c", ScaledParameter("a", -2.5), ScaledParameter("x", 0.5),
               leaves["shared_tensor"], leaves["row_tensor"], 3 * leaves["shared_tensor"], torch.rand(batch, dtype=F64),
               rng.uniform(-3, 3)]
    gates = PARAMETRIZED + CONSTANT + [rng.choice(PARAMETRIZED) for _ in range(extra_gates)]
    rng.shuffle(gates)
    slots = sum(GATES[gate].n_params for gate in gates)
    angles = sources + [rng.choice(sources) for _ in range(slots - len(sources))]  # every source at least once
    rng.shuffle(angles)
    circuit = Circuit(n_qubits)
    for q in range(n_qubits):
        circuit.h(q)
    for gate in gates:
        definition = GATES[gate]
        circuit.append(gate, rng.sample(range(n_qubits), definition.n_qubits),
                       [angles.pop() for _ in range(definition.n_params)])
        if rng.random() < 0.3:  # runs of gates on the same wires share one segment of the sweep
            circuit.append(gate if definition.n_qubits == 1 else "rx", circuit.operations[-1].wires[:1],
                           [rng.uniform(-3, 3)] * (definition.n_params if definition.n_qubits == 1 else 1))
    return circuit, params, list(leaves.values())


def _gradients(expval, circuit, observables, params, wrt, grad_output):
    values = expval(circuit, observables, params, dtype=torch.complex128)
    return values, torch.autograd.grad(values, wrt, grad_output, retain_graph=True)  # keeps 3 * tensor's graph


def _assert_matches_autograd(circuit, observables, params, wrt, batch):
    grad_output = torch.randn(batch, len(observables), dtype=F64)
    expected_values, expected = _gradients(sim.expval, circuit, observables, params, wrt, grad_output)
    values, grads = _gradients(adjoint_expval, circuit, observables, params, wrt, grad_output)
    torch.testing.assert_close(values, expected_values, atol=1e-10, rtol=0)
    for got, want in zip(grads, expected):
        assert got.shape == want.shape
        torch.testing.assert_close(got, want, atol=1e-5, rtol=0)


OBSERVABLES = ["Z0", "X1 Y2", "Z0 Z1 Z2", Hamiltonian([(0.5, "Z0 Z1"), (-0.2, "X0")]), "0.3*Y2 - 1.5*Z0 X1 + 2"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradients_equal_autograd_on_random_circuits(seed):
    circuit, params, wrt = _random_case(seed, n_qubits=4, batch=3)
    _assert_matches_autograd(circuit, OBSERVABLES, params, wrt, batch=3)


def test_gradients_equal_autograd_on_ten_qubits():
    circuit, params, wrt = _random_case(7, n_qubits=10, batch=4, extra_gates=30)
    observables = ["Z9", "X3 Y7 Z0", "0.7*Y5 Y6 - 0.1*Z2 + X8"]
    _assert_matches_autograd(circuit, observables, params, wrt, batch=4)


def test_standard_circuit_with_per_row_inputs_and_shared_weights():
    from qvec.bench.circuits import standard_qubit_circuit

    circuit = standard_qubit_circuit(5, 3)
    torch.manual_seed(3)
    params = {name: torch.rand(6 if name.startswith("x") else (), dtype=F64, requires_grad=True)
              for name in circuit.parameters}
    _assert_matches_autograd(circuit, ["Z0", "Z1 Z4", "X2"], params, list(params.values()), batch=6)


def test_a_parameter_in_many_gates_gets_the_sum_of_its_occurrences():
    theta = torch.tensor(0.37, dtype=F64, requires_grad=True)
    circuit = Circuit(1).rx(0, "t").rx(0, "t").rx(0, ScaledParameter("t", 3.0))
    (grad,) = torch.autograd.grad(adjoint_expval(circuit, ["Z0"], {"t": theta}).sum(), theta)
    # <Z> after rx(5 t) from |0> is cos(5 t): a textbook formula.
    torch.testing.assert_close(grad, -5 * torch.sin(5 * theta.detach()), atol=1e-12, rtol=0)


def test_forward_values_equal_the_engine_in_both_precisions():
    circuit, params, _ = _random_case(4, n_qubits=5, batch=3)
    for dtype in (torch.complex64, torch.complex128):
        torch.testing.assert_close(adjoint_expval(circuit, OBSERVABLES, params, dtype=dtype).detach(),
                                   sim.expval(circuit, OBSERVABLES, params, dtype=dtype).detach())


def test_complex64_gradients_are_close_to_complex128():
    circuit, params, wrt = _random_case(5, n_qubits=4, batch=3)
    grad_output = torch.randn(3, len(OBSERVABLES), dtype=F64)
    want = torch.autograd.grad(adjoint_expval(circuit, OBSERVABLES, params, dtype=torch.complex128), wrt, grad_output,
                               retain_graph=True)
    got = torch.autograd.grad(adjoint_expval(circuit, OBSERVABLES, params, dtype=torch.complex64), wrt,
                              grad_output.float())
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        torch.testing.assert_close(g, w, atol=1e-4, rtol=0)


def test_gradcheck_against_finite_differences():
    w = torch.tensor(0.3, dtype=F64, requires_grad=True)
    x = torch.tensor([0.1, -0.8], dtype=F64, requires_grad=True)
    circuit = Circuit(2).ry(0, "w").crx(0, 1, "x").u(1, "x", ScaledParameter("w", 2.0), "w").cp(1, 0, "w")
    circuit.cry(1, 0, "w").crz(0, 1, "x").p(1, "x").rzz(0, 1, "w")
    assert torch.autograd.gradcheck(lambda w, x: adjoint_expval(circuit, ["Z0", "0.5*X1 - Y0 Y1"], {"w": w, "x": x}),
                                    (w, x), eps=1e-6, atol=1e-6)


def test_without_gradients_there_is_no_autograd_node():
    circuit, params, _ = _random_case(6, n_qubits=3, batch=2)
    with torch.no_grad():
        values = adjoint_expval(circuit, ["Z0"], params)
    assert values.grad_fn is None
    torch.testing.assert_close(values, sim.expval(circuit, ["Z0"], params, dtype=torch.complex128).detach())


def test_only_inputs_that_require_grad_are_differentiated():
    w = torch.tensor(0.3, dtype=F64, requires_grad=True)
    circuit = Circuit(2).ry(0, "w").crx(0, 1, "x")
    values = adjoint_expval(circuit, ["Z1"], {"w": w, "x": torch.tensor([0.5, 1.0], dtype=F64)})
    (grad,) = torch.autograd.grad(values.sum(), w)
    expected = torch.autograd.grad(sim.expval(circuit, ["Z1"], {"w": w, "x": torch.tensor([0.5, 1.0], dtype=F64)},
                                              dtype=torch.complex128).sum(), w)[0]
    torch.testing.assert_close(grad, expected, atol=1e-12, rtol=0)


def test_second_derivatives_raise_instead_of_being_wrong():
    w = torch.tensor(0.3, dtype=F64, requires_grad=True)
    values = adjoint_expval(Circuit(1).ry(0, "w"), ["Z0"], {"w": w})
    with pytest.raises(InputError, match="first derivatives only"):
        torch.autograd.grad(values.sum(), w, create_graph=True)


def test_too_large_a_batch_is_an_input_error_before_running():
    w = torch.tensor(0.3, dtype=F64, requires_grad=True)
    sim.set_memory_budget(2**20)
    try:
        with pytest.raises(InputError, match="adjoint differentiation of 12 qubits x B = 8"):
            adjoint_expval(Circuit(12).ry(0, "w").ry(1, "x"), ["Z0"], {"w": w, "x": torch.zeros(8, dtype=F64)})
    finally:
        sim.set_memory_budget(None)


def test_bad_inputs_are_input_errors():
    w = torch.tensor(0.3, dtype=F64, requires_grad=True)
    with pytest.raises(InputError, match="takes a qubit Circuit"):
        adjoint_expval("not a circuit", ["Z0"], {"w": w})
    with pytest.raises(InputError, match="dtype must be"):
        adjoint_expval(Circuit(1).ry(0, "w"), ["Z0"], {"w": w}, dtype=torch.float64)
    with pytest.raises(InputError, match="acts on qubit 3"):
        adjoint_expval(Circuit(1).ry(0, "w"), ["Z3"], {"w": w})
    with pytest.raises(InputError, match="missing value for parameter 'w'"):
        adjoint_expval(Circuit(1).ry(0, "w"), ["Z0"], {})


@pytest.fixture
def small_permutation_tables(monkeypatch):
    """Programs whose merged permutations cover at most 3 wires, as on registers past 16 qubits."""
    from qvec.sim import program

    monkeypatch.setattr(program, "MONOMIAL_MAX_QUBITS", 3)
    program.compile_program.cache_clear()
    yield
    program.compile_program.cache_clear()


def test_permutations_on_some_wires_are_undone(small_permutation_tables):
    circuit, params, wrt = _random_case(8, n_qubits=6, batch=3)
    circuit.cx(0, 3).cz(5, 1).swap(2, 4).iswap(0, 5).cx(4, 1).ccx(0, 2, 5).cswap(1, 3, 4)
    for q in range(6):
        circuit.rx(q, "a" if q % 2 else "x")
    _assert_matches_autograd(circuit, OBSERVABLES, params, wrt, batch=3)


@pytest.mark.parametrize("layers", [1, 6])
def test_the_node_keeps_only_the_final_states_whatever_the_depth(layers):
    from qvec.bench.circuits import standard_qubit_circuit

    circuit = standard_qubit_circuit(4, layers)
    params = {name: torch.rand(5 if name.startswith("x") else (), dtype=F64, requires_grad=True)
              for name in circuit.parameters}
    values = adjoint_expval(circuit, ["Z0"], params)
    (saved,) = values.grad_fn.saved_tensors
    torch.testing.assert_close(saved, sim.simulate(circuit, params, dtype=torch.complex128).detach())
