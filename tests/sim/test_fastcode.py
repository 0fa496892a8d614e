"""The fast path's step written out as code: straight-line, trimmed to the gradients wanted, readable in tracebacks."""

from __future__ import annotations

import linecache

import pytest
import torch

import qvec
from qvec.circuit import Circuit
from qvec.circuit.observables import expand_observables
from qvec.circuit.parameters import ParameterStack
from qvec.sim import fastpath
from qvec.sim.fastcode import step_functions
from qvec.sim.fastplan import compile_fast_plan
from qvec.sim.simulate import PLANS

from .test_fastpath import general, standard


def plan_of(circuit: Circuit, layout: tuple):
    return compile_fast_plan(circuit.n_qubits, PLANS.gate_specs(circuit)[0], layout,
                             expand_observables(["Z0", "X1"], circuit.n_qubits).strings, torch.complex64)


def late_inputs(n_qubits: int) -> tuple[Circuit, list[str], list[str]]:
    """Two layers of weights, then the inputs: a backward pass for the inputs alone need not go further back."""
    circuit, weights = Circuit(n_qubits), []
    for layer in range(2):
        for q in range(n_qubits):
            weights += [f"w{layer}_{q}_a", f"w{layer}_{q}_b"]
            circuit.ry(q, weights[-2]).rz(q, weights[-1])
        for q in range(n_qubits - 1):
            circuit.cx(q, q + 1)
    inputs = [f"x{q}" for q in range(n_qubits)]
    for q in range(n_qubits):
        circuit.rx(q, inputs[q])
    return circuit, inputs, weights


def test_the_written_step_is_one_line_per_block_and_permutation() -> None:
    circuit, inputs, weights = standard(4)  # 2 layers: each two kron blocks and a CNOT ring
    plan = plan_of(circuit, ((tuple(weights), False), (tuple(inputs), False)))
    source = step_functions(plan, True, (True, False)).source
    forward = source.split("def backward")[0]
    assert not any(line.lstrip().startswith(("for ", "while ", "if ")) for line in source.splitlines())
    assert forward.count("perms[") == 2
    assert forward.count(" @ psi") + forward.count("psi @ ") == 2  # the first layer's blocks make the product state
    assert source.count("h_K[0][") == 4  # every block's traced gradient


def test_a_backward_for_the_inputs_alone_stops_after_their_layer_and_matches_the_general_path(
        monkeypatch: pytest.MonkeyPatch) -> None:
    circuit, inputs, weights = late_inputs(4)
    plan = plan_of(circuit, ((tuple(weights), False), (tuple(inputs), True)))
    both = step_functions(plan, False, (True, True)).source.split("def backward")[1]
    alone = step_functions(plan, False, (False, True)).source.split("def backward")[1]
    assert "h_K" not in alone and "h_R" in alone
    assert alone.count("@") < both.count("@")
    generator = torch.Generator().manual_seed(3)
    x = torch.rand(5, len(inputs), generator=generator, dtype=torch.float64).requires_grad_()
    w = torch.rand(len(weights), generator=generator, dtype=torch.float64)
    params = ParameterStack((weights, w), (inputs, x))

    def run():
        values = qvec.sim.expval(circuit, ["Z0", "X1", "Y2"], params, dtype=torch.complex128)
        return torch.autograd.grad((values * torch.arange(1.0, 4.0, dtype=torch.float64)).sum(), x)[0]

    torch.testing.assert_close(run(), general(monkeypatch, run), atol=1e-10, rtol=1e-10)


def test_the_written_lines_are_what_a_traceback_shows() -> None:
    circuit, inputs, weights = standard(3)
    plan = plan_of(circuit, ((tuple(weights), False), (tuple(inputs), True)))
    step = step_functions(plan, False, (True, True))
    filename = step.forward.__code__.co_filename
    assert [linecache.getline(filename, k).rstrip("\n") for k in (1, 2)] == step.source.splitlines()[:2]
    assert step_functions(plan, False, (True, True)) is step  # written once per plan and choice
    assert fastpath.step_functions is step_functions
