"""The recurrences give the same gates and derivatives through numpy (CPU) and torch (other devices)."""

import numpy as np
import pytest
import torch

from qvec.photonic.recurrences import RECURRENCES, gaussian_gate


@pytest.mark.parametrize("name", sorted(RECURRENCES))
def test_numpy_and_torch_kernels_agree(name):
    build, derivative = RECURRENCES[name]
    values = np.array([0.0, 0.3, 1.1])
    gate_np = build(values, 7)
    gate_torch = build(torch.tensor(values), 7)
    assert np.allclose(gate_np, gate_torch.numpy(), atol=1e-14)
    assert np.allclose(derivative(values, gate_np), derivative(torch.tensor(values), gate_torch).numpy(), atol=1e-14)


@pytest.mark.parametrize("name", sorted(RECURRENCES))
def test_closed_form_derivative_matches_central_differences(name):
    values, step = np.array([0.2, 0.7]), 1e-6
    build, derivative = RECURRENCES[name]
    numeric = (build(values + step, 9) - build(values - step, 9)) / (2 * step)
    assert np.allclose(derivative(values, build(values, 9)), numeric, atol=1e-7)


def test_gaussian_gate_accepts_float32_parameters_and_returns_float64():
    r = torch.tensor([0.3], requires_grad=True)
    gate = gaussian_gate("displacement", r, 5)
    assert gate.dtype == torch.float64
    gate.sum().backward()
    assert r.grad.dtype == torch.float32 and torch.isfinite(r.grad).all()
