"""PhotonicLayer: readouts against textbook states, outputs against the circuit's own run, gradients
against finite differences, shapes and errors."""

from __future__ import annotations

import math

import pytest
import torch
from torch.func import functional_call

from qvec import photonic
from qvec.backends.base import RunsPhotonicBatches
from qvec.backends.local import LocalPhotonicBackend
from qvec.errors import InputError
from qvec.nn import (
    FockProbabilities, MeanPhoton, PhotonicLayer, PositionDensity, QuadratureMean, QuadratureVariance, cv_neural_net,
)

from .inference import weight_gradient

GRID = torch.linspace(-4.0, 6.0, 11, dtype=torch.float64)


def coherent_layer(readouts, cutoff: int = 24) -> PhotonicLayer:
    """Displacement D(r e^{i phi}) of the vacuum with r, phi fed from x: a coherent state."""
    circuit = photonic.Circuit(1)
    circuit.d(0, "r", "phi")
    return PhotonicLayer(circuit, ["r", "phi"], [], readouts, cutoff=cutoff, dtype=torch.complex128)


def test_coherent_state_readouts_are_the_textbook_values() -> None:
    """hbar = 2: <x> = 2 r cos(phi), <p> = 2 r sin(phi), Var = 1, <n> = r**2, Poisson photon numbers,
    and a Gaussian position density of mean <x> and variance 1."""
    readouts = [QuadratureMean(0), QuadratureMean(0, phi=math.pi / 2), QuadratureVariance(0), MeanPhoton(0),
                FockProbabilities(0), PositionDensity(0, GRID)]
    layer = coherent_layer(readouts)
    assert layer.n_outputs == 4 + 24 + 11
    x = torch.tensor([[0.8, 0.3], [1.1, -2.0]], dtype=torch.float64)
    out = layer(x)
    r, phi = x[:, 0], x[:, 1]
    mean = 2 * r * torch.cos(phi)
    torch.testing.assert_close(out[:, 0], mean, atol=1e-10, rtol=0)
    torch.testing.assert_close(out[:, 1], 2 * r * torch.sin(phi), atol=1e-10, rtol=0)
    torch.testing.assert_close(out[:, 2], torch.ones(2, dtype=torch.float64), atol=1e-8, rtol=0)
    torch.testing.assert_close(out[:, 3], r**2, atol=1e-10, rtol=0)
    n = torch.arange(24, dtype=torch.float64)
    poisson = torch.exp(-r[:, None] ** 2) * r[:, None] ** (2 * n) / torch.exp(torch.lgamma(n + 1))
    torch.testing.assert_close(out[:, 4:28], poisson, atol=1e-10, rtol=0)
    gaussian = torch.exp(-(GRID - mean[:, None]) ** 2 / 2) / math.sqrt(2 * math.pi)
    torch.testing.assert_close(out[:, 28:], gaussian, atol=1e-8, rtol=0)


def test_squeezed_vacuum_variance_is_hbar_over_two_times_exp_minus_two_r() -> None:
    circuit = photonic.Circuit(1)
    circuit.s(0, "r")
    layer = PhotonicLayer(circuit, ["r"], [], [QuadratureVariance(0), QuadratureVariance(0, phi=math.pi / 2)],
                          cutoff=30, dtype=torch.complex128)
    r = torch.tensor([[0.2], [0.4]], dtype=torch.float64)
    expected = torch.cat([torch.exp(-2 * r), torch.exp(2 * r)], dim=1)
    torch.testing.assert_close(layer(r), expected, atol=1e-6, rtol=0)


def cv_model(cutoff: int = 7) -> PhotonicLayer:
    circuit = photonic.Circuit(2)
    circuit.d(0, "x0").d(1, "x1")
    circuit, weights = cv_neural_net(2, circuit=circuit)
    readouts = [QuadratureMean(0), QuadratureVariance(1), MeanPhoton(0), FockProbabilities(1),
                PositionDensity(0, [-1.0, 0.0, 1.5])]
    return PhotonicLayer(circuit, ["x0", "x1"], weights, readouts, cutoff=cutoff, seed=3, dtype=torch.complex128)


def test_outputs_equal_the_circuits_run_with_the_same_bindings() -> None:
    layer = cv_model()
    x = torch.tensor([[0.1, -0.2], [0.3, 0.05], [0.0, 0.2]], dtype=torch.float64)
    params = {"x0": x[:, 0], "x1": x[:, 1]} | {n: float(w) for n, w in zip(layer.weight_names, layer.weights.detach())}
    state = layer.circuit.run(params, cutoff=7, dtype=torch.complex128)
    grid = torch.tensor([-1.0, 0.0, 1.5], dtype=torch.float64)
    expected = torch.cat([state.quad_expectation(0)[:, None], state.quad_variance(1)[:, None],
                          state.mean_photon(0)[:, None], state.fock_probs().sum(1),
                          state.quadrature_density(0, grid)], dim=1)
    torch.testing.assert_close(layer(x), expected, atol=1e-12, rtol=0)


def test_leading_batch_shapes_and_joint_fock_probabilities() -> None:
    layer = cv_model(cutoff=5)
    x = 0.1 * torch.randn(2, 3, 2, dtype=torch.float64)
    out = layer(x)
    assert out.shape == (2, 3, layer.n_outputs) == (2, 3, 1 + 1 + 1 + 5 + 3)
    torch.testing.assert_close(out[1, 2], layer(x[1, 2]))
    joint = PhotonicLayer(layer.circuit, layer.inputs, layer.weight_names, [FockProbabilities()], cutoff=5, seed=3,
                          dtype=torch.complex128)
    probs = joint(x[0])
    assert probs.shape == (3, 25)
    torch.testing.assert_close(probs.reshape(3, 5, 5).sum(1), out[0, :, 3:8])


def test_gradients_for_weights_and_inputs_equal_finite_differences() -> None:
    layer = cv_model()
    x = torch.tensor([[0.1, -0.2], [0.3, 0.05]], dtype=torch.float64, requires_grad=True)
    w = layer.weights.detach().clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x, w: functional_call(layer, {"weights": w}, (x,)), (x, w))


def test_a_photonic_layer_trains_a_displacement_to_a_target_quadrature() -> None:
    circuit = photonic.Circuit(1)
    circuit.d(0, "a", 0.0).r(0, "theta")
    layer = PhotonicLayer(circuit, ["theta"], ["a"], [QuadratureMean(0)], cutoff=15, seed=0, dtype=torch.complex128)
    theta = torch.linspace(0, math.pi, 6, dtype=torch.float64)[:, None]
    target = 1.2 * torch.cos(theta)  # <x> of D(0.6) then R(theta): 2 * 0.6 cos(theta)
    optimizer = torch.optim.Adam(layer.parameters(), lr=0.05)
    for _ in range(250):
        optimizer.zero_grad()
        loss = torch.mean((layer(theta) - target) ** 2)
        loss.backward()
        optimizer.step()
    assert loss.item() < 1e-8
    assert layer.weights.item() == pytest.approx(0.6, abs=1e-4)


def test_bad_photonic_layers_are_input_errors() -> None:
    circuit = photonic.Circuit(2)
    circuit.d(0, "a").k(1, "kappa")
    with pytest.raises(InputError, match="'parameter-shift' is not available for photonic circuits"):
        PhotonicLayer(circuit, ["a"], ["kappa"], [MeanPhoton(0)], diff_method="parameter-shift")
    with pytest.raises(InputError, match="reads mode 2, out of range for a 2-mode circuit"):
        PhotonicLayer(circuit, ["a"], ["kappa"], [MeanPhoton(2)])
    with pytest.raises(InputError, match="unknown readout"):
        PhotonicLayer(circuit, ["a"], ["kappa"], ["n0"])
    with pytest.raises(InputError, match="'kappa' is neither an input nor a weight"):
        PhotonicLayer(circuit, ["a"], [], [MeanPhoton(0)])
    with pytest.raises(InputError, match="non-empty 1-D grid"):
        PositionDensity(0, [[0.0, 1.0]])
    with pytest.raises(InputError, match="cutoff must be a positive integer"):
        PhotonicLayer(circuit, ["a"], ["kappa"], [MeanPhoton(0)], cutoff=0)
    with pytest.raises(InputError, match="runs qubit circuits only"):
        PhotonicLayer(circuit, ["a"], ["kappa"], [MeanPhoton(0)], backend="ionq")
    layer = PhotonicLayer(circuit, ["a"], ["kappa"], [MeanPhoton(0)], cutoff=4)
    with pytest.raises(InputError, match=r"x must have last dimension 1 .* got shape \(3, 2\)"):
        layer(torch.zeros(3, 2))


def test_renormalize_and_truncation_tol_reach_the_run() -> None:
    circuit = photonic.Circuit(1)
    circuit.d(0, "r")
    r = torch.tensor([[1.5]], dtype=torch.float64)
    plain = PhotonicLayer(circuit, ["r"], [], [FockProbabilities()], cutoff=4, truncation_tol=1.0,
                          dtype=torch.complex128)
    kept = float(plain(r).sum())
    n = torch.arange(4, dtype=torch.float64)
    assert kept == pytest.approx(float((math.exp(-2.25) * 2.25**n / torch.exp(torch.lgamma(n + 1))).sum()), abs=1e-6)
    with pytest.warns(photonic.TruncationWarning):
        PhotonicLayer(circuit, ["r"], [], [FockProbabilities()], cutoff=4, dtype=torch.complex128)(r)
    renormalized = PhotonicLayer(circuit, ["r"], [], [FockProbabilities()], cutoff=4, renormalize=True,
                                 truncation_tol=1.0, dtype=torch.complex128)
    assert float(renormalized(r).sum()) == pytest.approx(1.0, abs=1e-12)


class PhotonicValuesOnly(RunsPhotonicBatches):
    """A photonic backend whose states carry no gradients (it does not declare DifferentiatesNatively)."""

    name = "photonic-values-only"

    def run_photonic(self, circuit, params, **options):
        with torch.no_grad():
            return LocalPhotonicBackend().run_photonic(circuit, params, **options)


def test_a_photonic_backend_without_gradients_is_refused_when_training() -> None:
    circuit = photonic.Circuit(1)
    circuit.d(0, "a")
    layer = PhotonicLayer(circuit, [], ["a"], [MeanPhoton(0)], cutoff=6, backend=PhotonicValuesOnly(), seed=0)
    with pytest.raises(InputError, match="returns photonic states without gradients"):
        layer()
    with torch.no_grad():
        assert layer().item() == pytest.approx(layer.weights.item() ** 2, abs=1e-4)


def test_gan_generator_step_on_the_adjoint_engine_equals_the_general_engine(monkeypatch):
    """The CV-GAN generator (latent D per row, two of Killoran's layers): outputs and the gradients to weights and
    latent inputs, from the one-node adjoint engine and from the general engine's autograd graph."""
    import importlib

    simulate_module = importlib.import_module("qvec.photonic.simulate")
    circuit = photonic.Circuit(2)
    inputs = ["z0", "z1"]
    circuit.d(0, "z0", 0.0).d(1, "z1", 0.0)
    circuit, weights = cv_neural_net(2, 2, circuit=circuit)
    layer = PhotonicLayer(circuit, inputs, weights, [QuadratureMean(0), QuadratureMean(1), MeanPhoton(0), MeanPhoton(1)],
                          cutoff=8, seed=3, dtype=torch.complex128)
    x = (0.3 * torch.randn(5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))).requires_grad_()

    def step() -> tuple[torch.Tensor, ...]:
        out = layer(x)
        return (out.detach(), *torch.autograd.grad((out * torch.arange(1.0, 5.0, dtype=torch.float64)).sum(),
                                                   [layer.weights, x]))

    fast = step()
    monkeypatch.setattr(simulate_module.adjoint, "supports", lambda c, d: False)
    general = step()
    for mine, theirs in zip(fast, general):
        assert torch.allclose(mine, theirs, rtol=0, atol=1e-11)


@pytest.mark.parametrize("with_inputs", [True, False])
def test_expectation_readouts_as_one_node_equal_the_readouts_own_reads(with_inputs):
    """<x_phi> and <n> readouts, read by the backend (locally one node with the circuit) and by each readout's own
    read of the layer's state: outputs and the gradients to weights and inputs."""
    circuit = photonic.Circuit(2)
    circuit.d(0, "z0", 0.0).d(1, "z1", 0.0)
    circuit, weights = cv_neural_net(2, 1, circuit=circuit)
    inputs = ["z0", "z1"] if with_inputs else []
    weights = weights if with_inputs else weights + ["z0", "z1"]
    readouts = [MeanPhoton(1), QuadratureMean(0), QuadratureMean(1, phi=0.4), MeanPhoton(0)]
    layer = PhotonicLayer(circuit, inputs, weights, readouts, cutoff=6, seed=4, dtype=torch.complex128)
    x = (0.3 * torch.randn(3, len(inputs), dtype=torch.float64, generator=torch.Generator().manual_seed(1)))
    x.requires_grad_()

    def step(read) -> tuple[torch.Tensor, ...]:
        out = read()
        grads = torch.autograd.grad((out * torch.arange(1.0, 5.0, dtype=torch.float64)).sum(), [layer.weights, x],
                                    allow_unused=True)
        return (out.detach(),) + tuple(torch.zeros(0) if g is None else g for g in grads)

    def own_reads() -> torch.Tensor:
        leading, state = layer.state(x)
        return torch.cat([readout.read(state) for readout in readouts], -1).expand(*leading, len(readouts))

    node, general = step(lambda: layer(x)), step(own_reads)
    for mine, theirs in zip(node, general):
        assert torch.allclose(mine, theirs, rtol=0, atol=1e-12)


@pytest.mark.parametrize("engine", ["adjoint", "general"])
def test_a_photonic_layer_first_run_under_inference_mode_still_trains(engine, monkeypatch):
    """Gate tables and readout weights cached during an evaluation under inference mode serve a training step."""
    import importlib

    matrices = importlib.import_module("qvec.photonic.matrices")
    if engine == "general":
        monkeypatch.setattr(importlib.import_module("qvec.photonic.adjoint"), "supports", lambda circuit, device: False)
    circuit = photonic.Circuit(2)
    circuit.d(0, "z").bs(0, 1, "t", "p").s(1, "r", 0.1).k(0, "t")
    x = 0.2 * torch.randn(3, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64)

    def gradient(evaluate_first: bool) -> torch.Tensor:
        for cached in (matrices._number_range, matrices._exponent):
            cached.cache_clear()
        layer = PhotonicLayer(circuit, ["z"], ["t", "p", "r"], [QuadratureMean(0), MeanPhoton(1), FockProbabilities(0),
                              QuadratureVariance(1)], cutoff=6, seed=2, dtype=torch.complex128)
        return weight_gradient(layer, x, evaluate_first)

    assert torch.allclose(gradient(True), gradient(False), atol=1e-10)
