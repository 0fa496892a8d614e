"""Gate angles read by one gather: a ``ParameterStack`` gives the same values and gradients as a dict of
one value per name (complex128), whatever mix of stacked, single, scaled, tensor and constant angles."""

from __future__ import annotations

import pytest
import torch

import qvec
from qvec.circuit.parameters import ParameterStack

WEIGHTS = ["a", "b", "c", "d"]
INPUTS = ["x0", "x1"]


def mixed_circuit(angle: torch.Tensor) -> qvec.Circuit:
    """Stacked weights (one used twice), per-row inputs, a tensor angle, constants, and scaled names (inverse)."""
    circuit = qvec.Circuit(3)
    circuit.ry(0, "x0").ry(1, "x1").rx(2, "a").cx(0, 1).rz(1, "b").rxx(0, 2, "c").u(1, "d", 0.3, "a")
    circuit.crx(2, 0, "x1").ry(2, angle).p(0, 0.25).cx(1, 2)
    return circuit.compose(qvec.Circuit(3).rx(0, "b").ry(1, "c").inverse())


def values_and_gradients(params_of, batch: int) -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(batch)
    weights = torch.rand(len(WEIGHTS), generator=generator, dtype=torch.float64).mul(6).requires_grad_()
    x = torch.rand(batch, len(INPUTS), generator=generator, dtype=torch.float64).mul(3).requires_grad_()
    angle = torch.rand(batch, generator=generator, dtype=torch.float64).requires_grad_()
    circuit = mixed_circuit(angle)
    out = qvec.sim.expval(circuit, ["Z0", "X1", "Y2", "Z0 Z2"], params_of(weights, x), dtype=torch.complex128)
    out.pow(2).sum().backward()
    return out.detach(), weights.grad, x.grad, angle.grad


@pytest.mark.parametrize("batch", [1, 5])
def test_stacked_binding_equals_the_dict_binding(batch: int) -> None:
    as_dict = values_and_gradients(lambda w, x: dict(zip(WEIGHTS, w)) | dict(zip(INPUTS, x.unbind(-1))), batch)
    stacked = values_and_gradients(lambda w, x: ParameterStack((WEIGHTS, w), (INPUTS, x)), batch)
    for expected, got in zip(as_dict, stacked):
        torch.testing.assert_close(got, expected, atol=1e-12, rtol=0)


def test_stacked_per_row_weights_equal_per_row_dict_values() -> None:
    weights = torch.rand(3, len(WEIGHTS), dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    x = torch.rand(3, len(INPUTS), dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    circuit = mixed_circuit(torch.tensor(0.4, dtype=torch.float64))
    expected = qvec.sim.probs(circuit, dict(zip(WEIGHTS, weights.unbind(-1))) | dict(zip(INPUTS, x.unbind(-1))),
                              dtype=torch.complex128)
    got = qvec.sim.probs(circuit, ParameterStack((WEIGHTS, weights), (INPUTS, x)), dtype=torch.complex128)
    torch.testing.assert_close(got, expected, atol=1e-12, rtol=0)


def test_the_engine_reads_a_stack_whole_not_one_scalar_per_weight() -> None:
    """The weights reach the engine's gather in one piece: no node of the graph splits or collects them per name."""
    names = [f"w{i}" for i in range(24)]
    circuit = qvec.Circuit(4)
    for i, name in enumerate(names):
        circuit.rx(i % 4, name).cx(i % 4, (i + 1) % 4)
    weights = torch.rand(len(names), requires_grad=True)
    out = qvec.sim.expval(circuit, ["Z0"], ParameterStack((names, weights)))
    nodes, todo = set(), [out.grad_fn]
    while todo:
        node = todo.pop()
        if node is not None and node not in nodes:
            nodes.add(node)
            todo.extend(next_node for next_node, _ in node.next_functions)
    users = [n for n in nodes if any(getattr(m, "variable", None) is weights for m, _ in n.next_functions)]
    assert len(users) == 1 and not type(users[0]).__name__.startswith("Unbind")  # the dict binding: Unbind
    assert max(len(n.next_functions) for n in nodes) < len(names)  # the dict binding: a Stack of 24 scalars


def test_a_nan_in_a_stack_names_the_parameter() -> None:
    circuit = qvec.Circuit(1).rx(0, "a").ry(0, "b")
    with pytest.raises(qvec.errors.InputError, match="'b'"):
        qvec.sim.probs(circuit, ParameterStack((["a", "b"], torch.tensor([0.1, float("nan")]))))
