"""Finite shots on the local backend: estimates with the shot noise of hardware, and their gradients.

Each row of a batch is an independent estimate, so a batch of R equal rows gives R draws of the
estimator at once: their mean must be the exact value within a few standard errors, and their
variance the binomial one, (1 - <P>**2) / N for a Pauli string measured N times.
"""

from __future__ import annotations

import math

import pytest
import torch

import qvec
from qvec.backends import LocalBackend, RunsQubitBatches
from qvec.errors import InputError
from qvec.execute import Expval, Probs, execute

ROWS, SHOTS = 4000, 200
A, B = 1.0, 0.5


def circuit() -> qvec.Circuit:
    return qvec.Circuit(2).ry(0, "a").ry(1, B)


def exact() -> dict[str, float]:
    """Textbook values for ry(a) on qubit 0 and ry(B) on qubit 1."""
    return {"Z0": math.cos(A), "X1": math.sin(B), "Z0 X1": math.cos(A) * math.sin(B), "Y0": 0.0, "X0": math.sin(A)}


def test_estimates_are_unbiased_with_the_binomial_variance() -> None:
    observables = list(exact())
    values = execute(circuit(), {"a": torch.full((ROWS,), A)}, Expval(observables), shots=SHOTS, seed=11,
                     dtype=torch.complex128)
    assert values.shape == (ROWS, len(observables))
    for column, (name, mean) in enumerate(exact().items()):
        variance = (1 - mean**2) / SHOTS
        estimates = values[:, column]
        assert abs(float(estimates.mean()) - mean) < 5 * math.sqrt(variance / ROWS), name
        # The sample variance of R draws has a relative standard error of sqrt(2 / R) (about 2%).
        assert float(estimates.var()) == pytest.approx(variance, rel=5 * math.sqrt(2 / ROWS)), name


def test_estimates_over_many_seeds_average_to_the_exact_value() -> None:
    seeds, shots = 300, 100
    values = torch.cat([execute(circuit(), {"a": A}, Expval(["X0"]), shots=shots, seed=seed, dtype=torch.complex128)
                        for seed in range(seeds)])
    mean, variance = math.sin(A), (1 - math.sin(A) ** 2) / shots
    assert abs(float(values.mean()) - mean) < 5 * math.sqrt(variance / seeds)
    assert float(values.var()) == pytest.approx(variance, rel=5 * math.sqrt(2 / seeds))


def test_estimates_are_means_of_plus_minus_one_outcomes() -> None:
    values = execute(circuit(), {"a": torch.full((50,), A)}, Expval(["Z0", "Z0 X1"]), shots=SHOTS, seed=2,
                     dtype=torch.complex128)
    hits = (values + 1) * SHOTS / 2  # the number of +1 outcomes
    torch.testing.assert_close(hits, hits.round())
    assert values.unique().numel() > 1  # shot noise, not the exact value


def test_weighted_sums_are_the_sums_of_the_estimates() -> None:
    values = execute(circuit(), {"a": torch.full((ROWS,), A)}, Expval(["0.5*Z0 - 0.2*X1"]), shots=SHOTS, seed=5,
                     dtype=torch.complex128)
    mean = 0.5 * math.cos(A) - 0.2 * math.sin(B)
    # An upper bound of the standard error: each term's, added (independence not assumed).
    bound = 0.5 * math.sqrt((1 - math.cos(A) ** 2) / SHOTS) + 0.2 * math.sqrt((1 - math.sin(B) ** 2) / SHOTS)
    assert abs(float(values.mean()) - mean) < 5 * bound / math.sqrt(ROWS)


def test_the_seed_makes_estimates_reproducible() -> None:
    def run(seed):
        return execute(circuit(), {"a": torch.full((20,), A)}, Expval(["Z0", "X0"]), shots=100, seed=seed)
    assert torch.equal(run(3), run(3))
    assert not torch.equal(run(3), run(4))
    assert not torch.equal(run(None), run(None))


def test_probabilities_with_shots_are_frequencies() -> None:
    probabilities = execute(circuit(), {"a": torch.full((ROWS,), A)}, Probs(), shots=SHOTS, seed=8,
                            dtype=torch.complex128)
    torch.testing.assert_close(probabilities.sum(1), torch.ones(ROWS, dtype=torch.float64))
    counts = probabilities * SHOTS
    torch.testing.assert_close(counts, counts.round())
    p0 = math.cos(A / 2) ** 2 * math.cos(B / 2) ** 2  # basis state 0: both qubits 0
    assert abs(float(probabilities[:, 0].mean()) - p0) < 5 * math.sqrt(p0 * (1 - p0) / SHOTS / ROWS)


def test_gradients_with_shots_are_parameter_shifts_of_estimates() -> None:
    """d<Z0>/da = -sin a; the shift rule's estimate (E(a + pi/2) - E(a - pi/2)) / 2 has variance
    (sin**2(a + pi/2) + sin**2(a - pi/2)) / (4 N) = cos**2(a) / (2 N).

    The rows differ by 1e-9 so that each is its own circuit: identical shifted rows are sent once
    (one remote round costs less), and would then share one estimate."""
    a = (A + 1e-9 * torch.arange(ROWS, dtype=torch.float64)).requires_grad_()
    values = execute(circuit(), {"a": a}, Expval(["Z0"]), shots=SHOTS, seed=9, dtype=torch.complex128)
    (grad,) = torch.autograd.grad(values.sum(), a)
    variance = math.cos(A) ** 2 / (2 * SHOTS)
    assert abs(float(grad.mean()) + math.sin(A)) < 5 * math.sqrt(variance / ROWS)
    assert float(grad.var()) == pytest.approx(variance, rel=5 * math.sqrt(2 / ROWS))


@pytest.mark.parametrize("method", ["backprop", "adjoint"])
def test_methods_that_need_exact_values_refuse_shots(method: str) -> None:
    a = torch.tensor([A], requires_grad=True)
    with pytest.raises(InputError, match=f"diff_method='{method}' differentiates exact values, not estimates from shots=10"):
        execute(circuit(), {"a": a}, Expval(["Z0"]), shots=10, diff_method=method)
    with pytest.raises(InputError, match="probabilities are differentiated by backprop of exact values only"):
        execute(circuit(), {"a": a}, Probs(), shots=10)


class CountingSampler(RunsQubitBatches):
    """A values-only backend (the local simulator) that counts its sample calls."""

    name = "counting"

    def __init__(self) -> None:
        self.sample_calls = 0

    def probs(self, circuit, params, *, dtype, device):
        raise AssertionError("shot estimates must come from samples")

    expval = probs

    def sample(self, circuit, shots, params, *, seed, dtype, device):
        self.sample_calls += 1
        return LocalBackend().sample(circuit, shots, params, seed=seed, dtype=dtype, device=device)


def test_every_basis_of_a_training_step_is_one_backend_call() -> None:
    """Z, X and Y bases (three groups), values and parameter-shift gradients: one sample call in all."""
    backend = CountingSampler()
    a = (A + 1e-9 * torch.arange(ROWS, dtype=torch.float64)).requires_grad_()
    values = execute(circuit(), {"a": a}, Expval(["Z0", "X0", "Y0", "X1"]), backend=backend, shots=SHOTS, seed=1,
                     dtype=torch.complex128)
    (grad,) = torch.autograd.grad(values[:, 1].sum(), a)  # d<X0>/da = cos a
    assert backend.sample_calls == 1
    values = values.detach()
    for column, mean in enumerate([math.cos(A), math.sin(A), 0.0, math.sin(B)]):
        assert abs(float(values[:, column].mean()) - mean) < 5 * math.sqrt((1 - mean**2) / SHOTS / ROWS)
    variance = math.sin(A) ** 2 / (2 * SHOTS)
    assert abs(float(grad.mean()) - math.cos(A)) < 5 * math.sqrt(variance / ROWS)


def test_per_row_tensor_angles_and_clashing_names_are_kept_apart() -> None:
    """A per-row tensor angle is repeated with the rows of every basis; a parameter named like the basis
    angles does not clash with them."""
    angles = torch.linspace(-1.0, 1.0, ROWS, dtype=torch.float64)
    c = qvec.Circuit(2).ry(0, angles).ry(1, "basis_theta_1").h(1)
    values = execute(c, {"basis_theta_1": 0.4}, Expval(["X0", "Z0", "Y1"]), shots=SHOTS, seed=6,
                     dtype=torch.complex128)
    # <X0> = sin(angle), <Z0> = cos(angle); h after ry(0.4) gives <Y1> = 0.
    residuals = values - torch.stack([angles.sin(), angles.cos(), torch.zeros_like(angles)], dim=1)
    assert (residuals.mean(dim=0).abs() < 5 * math.sqrt(1 / SHOTS / ROWS)).all()
    # Each row's X0 estimate has variance (1 - sin**2) / N: the residuals' variance is their mean.
    expected = float((angles.cos() ** 2).mean()) / SHOTS
    assert float(residuals[:, 0].var()) == pytest.approx(expected, rel=5 * math.sqrt(2 / ROWS))


def test_shot_estimates_on_ionq_are_one_job(ionq, emulator) -> None:
    rows = 40
    jobs = emulator.counters()["jobs_created"]
    values = execute(circuit(), {"a": torch.full((rows,), A)}, Expval(["Z0", "X0", "Y0"]), backend=ionq, shots=SHOTS,
                     seed=3, dtype=torch.complex128)
    assert emulator.counters()["jobs_created"] == jobs + 1
    for column, mean in enumerate([math.cos(A), math.sin(A), 0.0]):
        assert abs(float(values[:, column].mean()) - mean) < 5 * math.sqrt((1 - mean**2) / SHOTS / rows)
