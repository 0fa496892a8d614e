"""SPSA gradient estimates: reproducible, one evaluate call, and unbiased against exact autograd gradients."""

import pytest
import torch

from qvec import sim
from qvec.circuit import Circuit, ScaledParameter
from qvec.errors import InputError
from qvec.grad import spsa_expval

from .counting import CountingEvaluate

F64 = torch.float64
OBSERVABLES = ["Z0", "Z0 Z1 - 0.5*X1"]


def _case():
    """Three inputs: a shared weight used twice (once scaled), a per-row input, a tensor angle."""
    w = torch.tensor(0.4, dtype=F64, requires_grad=True)
    x = torch.tensor([0.3, -1.2], dtype=F64, requires_grad=True)
    t = torch.tensor(0.9, dtype=F64, requires_grad=True)
    circuit = Circuit(2).ry(0, "w").crx(0, 1, "x").rz(1, t).h(1).rzz(0, 1, ScaledParameter("w", -1.5)).ry(1, 0.2)
    return circuit, {"w": w, "x": x}, (w, x, t)


def _estimate(seed, samples=1, epsilon=0.01, evaluate=None):
    circuit, params, wrt = _case()
    values = spsa_expval(circuit, OBSERVABLES, params, evaluate or CountingEvaluate(OBSERVABLES),
                         seed=seed, samples=samples, epsilon=epsilon)
    return torch.cat([g.reshape(-1) for g in torch.autograd.grad(values.sum(), wrt)])


def _exact():
    circuit, params, wrt = _case()
    values = sim.expval(circuit, OBSERVABLES, params, dtype=torch.complex128)
    return torch.cat([g.reshape(-1) for g in torch.autograd.grad(values.sum(), wrt)])


def test_values_are_exact():
    circuit, params, _ = _case()
    values = spsa_expval(circuit, OBSERVABLES, params, CountingEvaluate(OBSERVABLES), seed=0)
    torch.testing.assert_close(values, sim.expval(circuit, OBSERVABLES, params, dtype=torch.complex128),
                               atol=1e-12, rtol=0)


def test_same_seed_same_estimate_other_seed_other_estimate():
    torch.testing.assert_close(_estimate(seed=7), _estimate(seed=7), atol=0, rtol=0)
    assert not torch.equal(_estimate(seed=7), _estimate(seed=8))


def test_unbiased_in_expectation():
    # The estimate is exact gradient + Delta_i * sum_{j != i} g_j Delta_j (+ O(eps**2)): its mean over
    # seeds converges to the gradient with standard error std / sqrt(n).
    estimates = torch.stack([_estimate(seed) for seed in range(300)])
    exact = _exact()
    error = (estimates.mean(0) - exact).abs()
    bound = 5 * estimates.std(0) / estimates.shape[0] ** 0.5 + 1e-3
    assert (error < bound).all(), (error, bound)
    assert (estimates.std(0) > 1e-3).all()  # single estimates really are noisy: the bound is not vacuous


def test_averaging_samples_in_one_call_reduces_the_noise():
    evaluate = CountingEvaluate(OBSERVABLES)
    estimate = _estimate(seed=1, samples=400, evaluate=evaluate)
    assert evaluate.calls == 1
    assert (estimate - _exact()).abs().max() < 0.5 * (_estimate(seed=1) - _exact()).abs().max()


def test_all_perturbed_rows_go_in_one_call():
    evaluate = CountingEvaluate(OBSERVABLES)
    circuit, params, _ = _case()
    spsa_expval(circuit, OBSERVABLES, params, evaluate, seed=3, samples=2).sum().backward()
    assert evaluate.calls == 1
    # 2 rows, each with itself and 2 samples x (+, -) perturbations; 3 inputs give 8 directions, so
    # only a repeated (or opposite) direction in the same row could merge two rows.
    assert evaluate.rows[0] <= 2 * (1 + 2 * 2)
    assert len(torch.unique(evaluate.sent[0], dim=0)) == evaluate.rows[0]


def test_gradient_shapes_follow_the_inputs():
    circuit, params, (w, x, t) = _case()
    spsa_expval(circuit, OBSERVABLES, params, CountingEvaluate(OBSERVABLES), seed=0).sum().backward()
    assert w.grad.shape == () and x.grad.shape == (2,) and t.grad.shape == ()


@pytest.mark.parametrize("keyword, value, message", [
    ("samples", 0, "samples must be a positive integer"),
    ("samples", True, "samples must be a positive integer"),
    ("epsilon", 0.0, "epsilon must be a positive finite number"),
    ("epsilon", float("nan"), "epsilon must be a positive finite number"),
    ("seed", "one", "seed must be an integer"),
])
def test_bad_arguments_are_input_errors(keyword, value, message):
    circuit, params, _ = _case()
    evaluate = CountingEvaluate(OBSERVABLES)
    with pytest.raises(InputError, match=message):
        spsa_expval(circuit, OBSERVABLES, params, evaluate, **{keyword: value})
    assert evaluate.calls == 0
