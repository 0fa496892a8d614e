"""The small-batch fast path against a dense reference, the general path and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import qvec
from qvec.bench.circuits import standard_qubit_circuit
from qvec.circuit import Circuit
from qvec.circuit.observables import Hamiltonian
from qvec.circuit.parameters import ParameterStack
from qvec.errors import InputError
from qvec.nn.encoders import data_reuploading
from qvec.circuit.observables import expand_observables
from qvec.sim import fastpath, fastplan, set_memory_budget
from qvec.sim.fastplan import compile_fast_plan
from qvec.sim.simulate import PLANS

from .reference import pauli_matrix, reference_state

OBSERVABLES = ["Z0", "Z1 Z2", "X0", "Y1 X2", Hamiltonian([(0.5, "Z0 Z1"), (-0.25, "X2"), (1.5, "Y0")])]
ONE_QUBIT = ["Z0", "X0", "Y0", Hamiltonian([(0.5, "Z0"), (-0.25, "X0")])]


def observables(n_qubits: int) -> list:
    return OBSERVABLES if n_qubits >= 3 else ONE_QUBIT


def mixed_gates(n_qubits: int) -> tuple[Circuit, list[str], list[str]]:
    """Every single-qubit gate kind, constant angles, constant permutations with phases (cz), per-row
    rotations after shared ones: the cases the fast path's atoms and stages must get right."""
    circuit = Circuit(n_qubits)
    inputs = [f"x{q}" for q in range(n_qubits)]
    weights = []
    for q in range(n_qubits):
        circuit.h(q).rx(q, inputs[q])
    for layer in range(2):
        for q in range(n_qubits):
            names = [f"w{layer}_{q}_{k}" for k in range(4)]
            weights += names
            circuit.u(q, names[0], names[1], names[2]).p(q, names[3]).rz(q, 0.3).s(q).t(q).sx(q).y(q)
        for q in range(n_qubits - 1):
            circuit.cz(q, q + 1).cx(q + 1, q)
        if n_qubits > 2:
            circuit.swap(0, n_qubits - 1).ccx(0, 1, 2)
        for q in range(n_qubits):
            circuit.ry(q, inputs[q])
    return circuit, inputs, weights


def standard(n_qubits: int) -> tuple[Circuit, list[str], list[str]]:
    circuit = standard_qubit_circuit(n_qubits, 2)
    return circuit, [f"x{q}" for q in range(n_qubits)], [p for p in circuit.parameters if p.startswith("w")]


def reuploading(n_qubits: int) -> tuple[Circuit, list[str], list[str]]:
    return data_reuploading(n_qubits, 2)


CIRCUITS = {"standard": standard, "mixed": mixed_gates, "reuploading": reuploading}


def stack(inputs: list[str], weights: list[str], rows: int, real: torch.dtype, *, seed: int = 0,
          per_row_weights: bool = False) -> tuple[ParameterStack, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(rows, len(inputs), generator=generator, dtype=torch.float64).to(real).mul(3).requires_grad_()
    shape = (rows, len(weights)) if per_row_weights else (len(weights),)
    w = torch.rand(*shape, generator=generator, dtype=torch.float64).to(real).mul(6).requires_grad_()
    return ParameterStack((weights, w), (inputs, x)), x, w


def general(monkeypatch: pytest.MonkeyPatch, run):
    """``run()`` with the fast path switched off."""
    with monkeypatch.context() as patch:
        patch.setattr(fastpath, "FAST_MAX_AMPLITUDES", 0)
        return run()


def dense_values(circuit: Circuit, params: ParameterStack, rows: int) -> np.ndarray:
    values = {name: params[name].detach().double() for name in params}
    matrices = []
    for observable in observables(circuit.n_qubits):
        terms = observable.terms if isinstance(observable, Hamiltonian) else [(1.0, observable)]
        matrices.append(sum(c * pauli_matrix(str(s), circuit.n_qubits) for c, s in terms))
    out = np.zeros((rows, len(matrices)))
    for row in range(rows):
        state = reference_state(circuit, values, row)
        out[row] = [np.real(state.conj() @ m @ state) for m in matrices]
    return out


@pytest.mark.parametrize("name", list(CIRCUITS))
@pytest.mark.parametrize("n_qubits", [1, 3, 4, 5])
@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
def test_values_match_a_dense_reference(name: str, n_qubits: int, dtype: torch.dtype) -> None:
    if name != "mixed" and n_qubits == 1:
        pytest.skip("a CNOT ring needs two qubits")
    circuit, inputs, weights = CIRCUITS[name](n_qubits)
    real = torch.float64 if dtype == torch.complex128 else torch.float32
    params, _, _ = stack(inputs, weights, 3, real)
    values = qvec.sim.expval(circuit, observables(n_qubits), params, dtype=dtype)
    tolerance = 1e-10 if dtype == torch.complex128 else 2e-5
    np.testing.assert_allclose(values.detach().double().numpy(), dense_values(circuit, params, 3), atol=tolerance)


@pytest.fixture(params=["dense", "gathered"])
def angle_map(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """Plans whose term phases come from a dense map (small tables) or from gathers (wide ones)."""
    PLANS.clear()
    if request.param == "gathered":
        monkeypatch.setattr(fastplan, "DENSE_MAX_ENTRIES", 0)
    yield request.param
    PLANS.clear()


@pytest.mark.parametrize("name", list(CIRCUITS))
@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
@pytest.mark.parametrize("per_row_weights", [False, True])
@pytest.mark.parametrize("rows", [1, 5])  # one row runs as shared values
def test_values_and_gradients_match_the_general_path(monkeypatch: pytest.MonkeyPatch, angle_map: str, name: str,
                                                      dtype: torch.dtype, per_row_weights: bool, rows: int) -> None:
    circuit, inputs, weights = CIRCUITS[name](4)
    real = torch.float64 if dtype == torch.complex128 else torch.float32
    params, x, w = stack(inputs, weights, rows, real, per_row_weights=per_row_weights)
    layout = ((tuple(weights), per_row_weights and rows > 1), (tuple(inputs), rows > 1))
    plan = compile_fast_plan(4, PLANS.gate_specs(circuit)[0], layout, expand_observables(OBSERVABLES, 4).strings,
                             dtype)
    maps = [kind.dense is not None for kind in (plan.shared, plan.row) if kind and kind.width]  # width 0: constants
    assert maps and all(dense == (angle_map == "dense") for dense in maps)
    readout = torch.randn(rows, len(OBSERVABLES), generator=torch.Generator().manual_seed(1), dtype=real)

    def run():
        values = qvec.sim.expval(circuit, OBSERVABLES, params, dtype=dtype)
        return (values.detach(), *torch.autograd.grad((values * readout).sum(), [x, w]))

    fast, slow = run(), general(monkeypatch, run)
    tolerance = 1e-10 if dtype == torch.complex128 else 1e-4
    for a, b in zip(fast, slow):
        torch.testing.assert_close(a, b, atol=tolerance, rtol=tolerance)


@pytest.mark.parametrize("rows", [1, 4])
def test_long_runs_are_products_of_units_and_match_the_general_path(monkeypatch: pytest.MonkeyPatch,
                                                                    rows: int) -> None:
    """Seven rotations in a row on one qubit are more terms than a unit holds: the run becomes a product of units
    (per row for rows > 1), forward and back."""
    circuit = Circuit(2).h(1)
    for k, gate in enumerate(["rx", "ry", "rz", "rx", "ry", "rz", "rx"]):
        getattr(circuit, gate)(0, f"x{k % 3}")
    circuit.cx(0, 1).ry(1, "w0").rz(0, "w1")
    inputs, weights = ["x0", "x1", "x2"], ["w0", "w1"]
    params, x, w = stack(inputs, weights, rows, torch.float64)
    layout = ((tuple(weights), False), (tuple(inputs), rows > 1))
    plan = compile_fast_plan(2, PLANS.gate_specs(circuit)[0], layout, expand_observables(["Z0"], 2).strings,
                             torch.complex128)
    assert max(kind.length for kind in (plan.shared, plan.row) if kind is not None) > 1

    def run():
        values = qvec.sim.expval(circuit, ONE_QUBIT + ["Z1", "X1"], params, dtype=torch.complex128)
        return (values.detach(), *torch.autograd.grad((values * torch.arange(1.0, 7.0)).sum(), [x, w]))

    for a, b in zip(run(), general(monkeypatch, run)):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)


def test_gradients_match_finite_differences() -> None:
    circuit, inputs, weights = mixed_gates(3)
    params, x, w = stack(inputs, weights, 2, torch.float64)
    grad_x, grad_w = torch.autograd.grad(qvec.sim.expval(circuit, OBSERVABLES, params, dtype=torch.complex128).sum(),
                                         [x, w])

    def total(x_value: torch.Tensor, w_value: torch.Tensor) -> float:
        values = ParameterStack((weights, w_value), (inputs, x_value))
        return float(qvec.sim.expval(circuit, OBSERVABLES, values, dtype=torch.complex128).sum())

    step = 1e-6
    for tensor, grad in ((x, grad_x), (w, grad_w)):
        flat = tensor.detach().reshape(-1)
        for i in range(0, flat.numel(), 3):
            up, down = flat.clone(), flat.clone()
            up[i] += step
            down[i] -= step
            args = [up.reshape(tensor.shape), w.detach()] if tensor is x else [x.detach(), up.reshape(tensor.shape)]
            low = [down.reshape(tensor.shape), w.detach()] if tensor is x else [x.detach(), down.reshape(tensor.shape)]
            estimate = (total(*args) - total(*low)) / (2 * step)
            assert abs(estimate - float(grad.reshape(-1)[i])) < 1e-6


def test_inputs_without_grad_leave_weights_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    circuit, inputs, weights = standard(6)
    params, x, w = stack(inputs, weights, 4, torch.float32)
    params = ParameterStack((weights, w), (inputs, x.detach()))

    def run():
        return torch.autograd.grad(qvec.sim.expval(circuit, ["Z0", "Z5"], params).sum(), w)[0]

    torch.testing.assert_close(run(), general(monkeypatch, run), atol=1e-4, rtol=1e-4)


def taken(circuit: Circuit, params, monkeypatch: pytest.MonkeyPatch) -> bool:
    calls = []
    original = fastpath._Evolve.apply
    monkeypatch.setattr(fastpath._Evolve, "apply", lambda *args: calls.append(1) or original(*args))
    qvec.sim.expval(circuit, ["Z0"], params)
    return bool(calls)


def test_the_path_is_chosen_by_the_stated_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    circuit, inputs, weights = standard(8)
    small, _, _ = stack(inputs, weights, fastpath.FAST_MAX_AMPLITUDES // 2**8, torch.float32)
    large, _, _ = stack(inputs, weights, fastpath.FAST_MAX_AMPLITUDES // 2**8 + 1, torch.float32)
    assert taken(circuit, small, monkeypatch)
    assert not taken(circuit, large, monkeypatch)
    assert not taken(circuit, {name: small[name] for name in small}, monkeypatch)  # a plain dict
    with_rzz = standard(8)[0].rzz(0, 1, 0.5)
    assert not taken(with_rzz, small, monkeypatch)
    with_tensor = standard(8)[0].rx(0, torch.tensor(0.5))
    assert not taken(with_tensor, small, monkeypatch)


def test_a_non_finite_angle_names_its_parameter() -> None:
    circuit, inputs, weights = standard(4)
    params, x, w = stack(inputs, weights, 2, torch.float32)
    bad = w.detach().clone()
    bad[3] = float("nan")
    with pytest.raises(InputError, match=repr(weights[3])):
        qvec.sim.expval(circuit, ["Z0"], ParameterStack((weights, bad), (inputs, x)))


def test_a_set_memory_budget_is_still_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    circuit, inputs, weights = standard(4)
    params, _, _ = stack(inputs, weights, 64, torch.float32)
    expected = qvec.sim.expval(circuit, ["Z0"], params)
    set_memory_budget(64)
    try:
        with pytest.raises(InputError, match="memory budget"):
            qvec.sim.expval(circuit, ["Z0"], params)
        set_memory_budget(20_000)  # too little for the fast path's states: the general path runs it in chunks
        assert not taken(circuit, params, monkeypatch)
        torch.testing.assert_close(qvec.sim.expval(circuit, ["Z0"], params), expected)
    finally:
        set_memory_budget(None)


def test_missing_and_unknown_names_are_refused_as_on_the_general_path() -> None:
    circuit, inputs, weights = standard(4)
    _, x, w = stack(inputs, weights, 2, torch.float32)
    with pytest.raises(InputError, match="missing value"):
        qvec.sim.expval(circuit, ["Z0"], ParameterStack((weights[:-1], w[:-1]), (inputs, x)))
    with pytest.raises(InputError, match="unknown parameter"):
        qvec.sim.expval(circuit, ["Z0"], ParameterStack((weights + ["extra"], torch.cat([w, w[:1]])), (inputs, x)))


def test_gradcheck_and_a_retained_graph() -> None:
    """torch's own check of the hand-written backward (it runs backward several times on one graph)."""
    circuit, inputs, weights = mixed_gates(3)
    _, x, w = stack(inputs, weights, 2, torch.float64)

    def values(x_value: torch.Tensor, w_value: torch.Tensor) -> torch.Tensor:
        params = ParameterStack((weights, w_value), (inputs, x_value))
        return qvec.sim.expval(circuit, OBSERVABLES, params, dtype=torch.complex128)

    assert torch.autograd.gradcheck(values, (x.detach().requires_grad_(), w.detach().requires_grad_()))


@pytest.mark.parametrize("n_qubits", [7, 8])  # qubit groups of 4 and 3 or 4: kron blocks of up to 16 x 16
@pytest.mark.parametrize("rows", [1, 3])
def test_gradients_of_wide_blocks_match_the_general_path(monkeypatch: pytest.MonkeyPatch, n_qubits: int,
                                                         rows: int) -> None:
    circuit, inputs, weights = standard(n_qubits)
    params, x, w = stack(inputs, weights, rows, torch.float64)

    strings = ["Z0", "Z1 Z2", "X0", "Y1 X2"]

    def run():
        values = qvec.sim.expval(circuit, strings, params, dtype=torch.complex128)
        return (values.detach(), *torch.autograd.grad(values.sum(), [x, w]))

    slow = general(monkeypatch, run)
    with torch.inference_mode():  # a plan compiled here still serves a step with autograd
        qvec.sim.expval(circuit, strings, params, dtype=torch.complex128)
    for a, b in zip(run(), slow):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)
