"""Autograd through the engine against finite differences and the parameter-shift rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import qvec
from qvec.bench.circuits import standard_qubit_circuit

from .test_simulate import random_circuit


@pytest.mark.parametrize("batch", [1, 64])
def test_gradient_matches_finite_differences(batch: int) -> None:
    torch.manual_seed(0)
    circuit = standard_qubit_circuit(3, 2)
    weights = {n: torch.randn((), dtype=torch.float64, requires_grad=True) for n in circuit.parameters if n.startswith("w")}
    inputs = {f"x{q}": torch.randn(batch, dtype=torch.float64) for q in range(3)}

    def loss(w: dict) -> torch.Tensor:
        return circuit.expval(["Z0", "X1", "Z1 Y2"], {**inputs, **w}, dtype=torch.complex128).sum()

    loss(weights).backward()
    eps = 1e-6
    for name, value in weights.items():
        plus = {**weights, name: value.detach() + eps}
        minus = {**weights, name: value.detach() - eps}
        numeric = (loss(plus) - loss(minus)).item() / (2 * eps)
        assert value.grad.item() == pytest.approx(numeric, abs=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_gradient_matches_parameter_shift(seed: int) -> None:
    """For gates exp(-i theta P / 2), d<O>/dtheta = (<O>(theta + pi/2) - <O>(theta - pi/2)) / 2."""
    rng = np.random.default_rng(seed)
    circuit, params = random_circuit(rng, 3, 12, 5)
    circuit.rx(0, "theta").cx(0, 1).ry(1, "theta_2").rzz(1, 2, "theta_3")
    for name in ("theta", "theta_2", "theta_3"):
        params[name] = torch.tensor(rng.uniform(-3, 3), dtype=torch.float64)
    observables = ["Z0 Z1", "X2", "Y1"]
    for name in ("theta", "theta_2", "theta_3"):
        value = params[name].clone().requires_grad_(True)
        circuit.expval(observables, {**params, name: value}, dtype=torch.complex128).sum().backward()
        shifted = [circuit.expval(observables, {**params, name: params[name] + s}, dtype=torch.complex128).sum()
                   for s in (math.pi / 2, -math.pi / 2)]
        assert value.grad.item() == pytest.approx(((shifted[0] - shifted[1]) / 2).item(), abs=1e-9)


def test_gradients_flow_to_tensor_angles_and_per_row_inputs() -> None:
    x = torch.tensor([0.3, -0.7], dtype=torch.float64, requires_grad=True)
    w = torch.tensor(0.4, dtype=torch.float64, requires_grad=True)
    circuit = qvec.Circuit(1).ry(0, x).rx(0, w)
    circuit.expval(["Z0"], dtype=torch.complex128).sum().backward()
    # <Z> = cos(x) cos(w) for RX(w) RY(x)|0>
    torch.testing.assert_close(x.grad, -torch.sin(x.detach()) * math.cos(0.4))
    torch.testing.assert_close(w.grad, -torch.cos(x.detach()).sum() * math.sin(0.4))


def test_chunked_gradients_match_unchunked() -> None:
    circuit = standard_qubit_circuit(3, 2)
    torch.manual_seed(1)
    inputs = {f"x{q}": torch.randn(40, dtype=torch.float64) for q in range(3)}
    names = [n for n in circuit.parameters if n.startswith("w")]
    values = torch.randn(len(names), dtype=torch.float64)

    def grad() -> torch.Tensor:
        w = values.clone().requires_grad_(True)
        circuit.expval(["Z0", "Z2"], {**inputs, **dict(zip(names, w.unbind()))}, dtype=torch.complex128).square().sum().backward()
        return w.grad

    whole = grad()
    qvec.sim.set_memory_budget(5000)
    try:
        chunked = grad()
    finally:
        qvec.sim.set_memory_budget(None)
    torch.testing.assert_close(chunked, whole)
