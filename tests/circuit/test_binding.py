"""Binding parameter rows into concrete circuits."""

import pytest
import torch

import qvec
from qvec.circuit.binding import bind_rows
from qvec.errors import InputError


def test_each_row_gets_its_values_and_shared_values_repeat():
    circuit = qvec.Circuit(2).ry(0, "a").rx(1, "b").rz(0, 0.25).crx(0, 1, torch.tensor([5.0, 6.0, 7.0]))
    bound = bind_rows(circuit, {"a": torch.tensor([1.0, 2.0, 3.0]), "b": 0.5})
    assert len(bound) == 3
    for row, concrete in enumerate(bound):
        assert [op.angles for op in concrete] == [(1.0 + row,), (0.5,), (0.25,), (5.0 + row,)]
        assert all(isinstance(a, float) for op in concrete for a in op.angles)


def test_a_circuit_without_parameters_is_one_row():
    circuit = qvec.Circuit(1).h(0)
    assert bind_rows(circuit) == [circuit]


def test_bad_parameters_are_input_errors():
    with pytest.raises(InputError, match="missing value for parameter 'a'"):
        bind_rows(qvec.Circuit(1).ry(0, "a"), {})


def _bind_row_checked(circuit, values, row):
    """The reference: each row built gate by gate through ``Circuit.append`` (full checks), as before the fast path."""
    def value(tensor):
        return float(tensor.detach().reshape(-1)[row if tensor.dim() == 1 else 0])

    def angle(a):
        if isinstance(a, str):
            return value(values[a])
        if isinstance(a, qvec.circuit.parameters.ScaledParameter):
            return a.scale * value(values[a.name])
        return value(a) if isinstance(a, torch.Tensor) else float(a)

    bound = qvec.Circuit(circuit.n_qubits)
    for op in circuit:
        bound.append(op.gate, op.wires, tuple(angle(a) for a in op.angles))
    return bound


def _random_template(generator, rows):
    """Gates of every arity with float, shared, per-row, scaled (via inverse) and tensor angles."""
    circuit = qvec.Circuit(3)
    for k in range(12):
        kind = int(torch.randint(5, (), generator=generator))
        angle = [0.1 * k, f"s{k % 3}", f"r{k % 4}", torch.rand(rows, generator=generator, dtype=torch.float64),
                 torch.tensor(0.3 * k)][kind]
        circuit.ry(k % 3, angle).cx(k % 3, (k + 1) % 3).u(2, angle, "s0", 0.5).crz(0, 2, angle).h(1)
    return circuit.compose(circuit.inverse())  # inverse writes -name: ScaledParameter


@pytest.mark.parametrize("seed", range(5))
def test_fast_bind_equals_gate_by_gate_binding(seed):
    generator = torch.Generator().manual_seed(seed)
    rows = 7
    circuit = _random_template(generator, rows)
    params = {name: (torch.rand(rows, generator=generator) if name.startswith("r") else float(torch.rand((), generator=generator)))
              for name in circuit.parameters}
    values = qvec.circuit.parameters.bind_parameters(circuit.parameters, params, circuit.tensor_angles()).values
    fast = bind_rows(circuit, params)
    assert len(fast) == rows
    for row, concrete in enumerate(fast):
        reference = _bind_row_checked(circuit, values, row)
        assert concrete == reference
        assert [op.angles for op in concrete] == [op.angles for op in reference]  # bit for bit, not only up to -0.0
        assert all(type(a) is float for op in concrete for a in op.angles)


def test_fast_bind_rows_are_independent_circuits():
    circuit = qvec.Circuit(1).ry(0, "a").h(0)
    first, second = bind_rows(circuit, {"a": [1.0, 2.0]})
    first.x(0)
    assert len(second) == 2 and len(circuit) == 2 and second.parameters == []


def test_a_scaled_angle_that_overflows_is_an_input_error():
    circuit = qvec.Circuit(1).append("ry", (0,), (qvec.circuit.parameters.ScaledParameter("a", 1e300),))
    with pytest.raises(InputError, match=r"angle 0 of ry on qubits \(0,\) is inf at row 1; angles must be finite"):
        bind_rows(circuit, {"a": [0.0, 1e10]})


@pytest.mark.parametrize("seed", range(3))
def test_fast_bound_rows_compile_to_the_same_ionq_json(seed):
    """Every IonQ-translatable gate (decomposed ones included) compiles to the same JSON text, row by row."""
    import json

    from qvec.circuit.ionq_json import ionq_gates

    generator = torch.Generator().manual_seed(seed)
    circuit = _random_template(generator, 4).cp(0, 1, "s1").ch(1, 2).cswap(0, 1, 2).iswap(1, 2).p(0, "r2").sdg(1)
    params = {name: torch.rand(4, generator=generator) * 6 - 3 for name in circuit.parameters}
    values = qvec.circuit.parameters.bind_parameters(circuit.parameters, params, circuit.tensor_angles()).values
    for row, concrete in enumerate(bind_rows(circuit, params)):
        reference = ionq_gates(_bind_row_checked(circuit, values, row))
        assert json.dumps(ionq_gates(concrete)) == json.dumps(reference)
