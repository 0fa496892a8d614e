"""QuantumLayer: outputs against the circuit's own expval, batch shapes, gradients against finite
differences, seeded initialisation, training to a known loss, and clear errors."""

from __future__ import annotations

import math

import pytest
import torch
from torch.func import functional_call

import qvec
from qvec.apps.moons import load_two_moons
from qvec.backends.base import RunsQubitBatches
from qvec.backends.local import LocalBackend
from qvec.circuit import Circuit
from qvec.circuit.parameters import ParameterStack
from qvec.errors import InputError
from qvec.nn import QuantumLayer, angle_encoding, data_reuploading, strongly_entangling

from .inference import weight_gradient
from .reference import dense_state, z_expectation

OBSERVABLES = ["Z0", "Z1", "X0 Y1", "0.5*Z0 Z1 - 0.25*X1"]


def model(n_qubits: int = 2, layers: int = 2) -> tuple[Circuit, list[str], list[str]]:
    circuit, inputs = angle_encoding(n_qubits)
    circuit, weights = strongly_entangling(n_qubits, layers, circuit=circuit)
    return circuit, inputs, weights


def test_qvec_nn_loads_on_first_use() -> None:
    assert qvec.nn.QuantumLayer is QuantumLayer


def test_the_design_contract_call() -> None:
    circuit = qvec.Circuit(2)
    circuit.ry(0, "x0").ry(1, "x1").rx(0, "w0").cx(0, 1).ry(1, "w1").rz(0, "w2")
    layer = qvec.nn.QuantumLayer(circuit, inputs=["x0", "x1"], weights=["w0", "w1", "w2"],
                                 observables=["Z0", "Z1"], backend=None, diff_method="best", shots=None)
    assert isinstance(layer.weights, torch.nn.Parameter) and layer.weights.shape == (3,)
    assert layer(torch.rand(4, 5, 2)).shape == (4, 5, 2)


def test_outputs_equal_the_circuits_expval_with_the_same_bindings() -> None:
    circuit, inputs, weights = model()
    layer = QuantumLayer(circuit, inputs, weights, OBSERVABLES, seed=7, dtype=torch.complex128)
    x = torch.randn(5, 2, dtype=torch.float64)
    params = {name: x[:, i] for i, name in enumerate(inputs)}
    params.update({name: float(w) for name, w in zip(weights, layer.weights.detach())})
    expected = circuit.expval(OBSERVABLES, params, dtype=torch.complex128)
    torch.testing.assert_close(layer(x), expected, atol=1e-12, rtol=0)
    values = dict(zip(weights, layer.weights.tolist())) | dict(zip(inputs, x[2].tolist()))
    assert layer(x[2])[0].item() == pytest.approx(z_expectation(dense_state(circuit, values), 0), abs=1e-12)


def test_any_leading_batch_shape_maps_to_the_same_leading_shape() -> None:
    circuit, inputs, weights = model()
    layer = QuantumLayer(circuit, inputs, weights, OBSERVABLES, seed=1)
    x = torch.randn(2, 3, 2)
    y = layer(x)
    assert y.shape == (2, 3, len(OBSERVABLES)) and y.dtype == torch.float32
    torch.testing.assert_close(y.reshape(6, -1), layer(x.reshape(6, 2)))
    assert layer(x[0, 0]).shape == (len(OBSERVABLES),)
    torch.testing.assert_close(layer(x[0, 0]), y[0, 0])
    no_inputs = QuantumLayer(strongly_entangling(2, 1)[0], [], strongly_entangling(2, 1)[1], ["Z0"], seed=1)
    assert no_inputs().shape == (1,) and no_inputs(torch.zeros(4, 0)).shape == (4, 1)


def test_weights_are_one_parameter_passed_whole_to_the_engine() -> None:
    """The issue: binding the weights is one vectorized gather, not a dict of one scalar per weight."""
    circuit, inputs, weights = model(3, 4)
    layer = QuantumLayer(circuit, inputs, weights, ["Z0"], seed=0)
    assert [name for name, _ in layer.named_parameters()] == ["weights"] and layer.weights.shape == (len(weights),)
    x = torch.rand(2, 3)
    _, params = layer.bindings(x)
    assert isinstance(params, ParameterStack)
    (weight_names, weight_values), (input_names, input_rows) = params.groups
    assert weight_names == tuple(weights) and weight_values is layer.weights
    assert input_names == tuple(inputs) and torch.equal(input_rows, x)


def test_the_same_seed_gives_the_same_initial_weights() -> None:
    circuit, inputs, weights = model()
    first, again = (QuantumLayer(circuit, inputs, weights, ["Z0"], seed=11).weights for _ in range(2))
    other = QuantumLayer(circuit, inputs, weights, ["Z0"], seed=12).weights
    assert torch.equal(first, again) and not torch.equal(first, other)
    first = first.detach()
    assert float(first.min()) >= 0 and float(first.max()) < 2 * math.pi
    normal = QuantumLayer(circuit, inputs, weights, ["Z0"], init="normal", init_std=1e-3, seed=1).weights.detach()
    assert 0 < float(normal.abs().max()) < 1e-2
    given = torch.arange(len(weights), dtype=torch.float32)
    assert torch.equal(QuantumLayer(circuit, inputs, weights, ["Z0"], init=given).weights.detach(), given)


def layer_function(layer: QuantumLayer):
    """The layer as a function of (x, weights), for gradcheck."""
    return lambda x, w: functional_call(layer, {"weights": w}, (x,))


@pytest.mark.parametrize("diff_method", ["best", "backprop", "adjoint", "parameter-shift"])
def test_gradients_for_weights_and_inputs_equal_finite_differences(diff_method: str) -> None:
    circuit, inputs, weights = model()
    circuit.crx(0, 1, "c0")  # a gate with the general (four-term) shift rule
    layer = QuantumLayer(circuit, inputs, [*weights, "c0"], OBSERVABLES, diff_method=diff_method, seed=5,
                         dtype=torch.complex128)
    x = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    w = layer.weights.detach().clone().requires_grad_(True)
    assert torch.autograd.gradcheck(layer_function(layer), (x, w))


def test_spsa_gives_an_estimate_of_the_gradient_reproducible_with_the_seed() -> None:
    circuit, inputs, weights = model()
    grads = []
    for _ in range(2):
        layer = QuantumLayer(circuit, inputs, weights, ["Z0"], diff_method="spsa", seed=4, dtype=torch.complex128)
        layer(torch.ones(3, 2, dtype=torch.float64)).sum().backward()
        grads.append(layer.weights.grad)
    assert torch.equal(grads[0], grads[1]) and bool(grads[0].abs().sum() > 0)


def test_shots_estimate_the_exact_values_from_samples_reproducibly() -> None:
    circuit, inputs, weights = model()
    exact = QuantumLayer(circuit, inputs, weights, ["Z0", "X0 Y1"], seed=2, dtype=torch.complex128)
    x = torch.randn(4, 2, dtype=torch.float64)
    sampled = [QuantumLayer(circuit, inputs, weights, ["Z0", "X0 Y1"], shots=20_000, seed=2,
                            dtype=torch.complex128)(x) for _ in range(2)]
    assert torch.equal(sampled[0], sampled[1])
    # A sampled +-1 parity has standard deviation at most 1/sqrt(shots) = 0.007: 6 sigma.
    torch.testing.assert_close(sampled[0], exact(x), atol=0.045, rtol=0)


def test_a_layer_trains_to_the_known_minimum() -> None:
    """RY(x_q) RY(w_q), CX(0, 1) gives <Z0> = cos(x0 + w0) and <Z1> = cos(x0 + w0) cos(x1 + w1): fitting the
    outputs of w* = (0.7, -0.4) has one minimum (loss 0, w = w* mod 2 pi), which seeded Adam reaches."""
    circuit, inputs = angle_encoding(2)
    circuit.ry(0, "w0").ry(1, "w1").cx(0, 1)
    x = torch.linspace(-1.5, 1.5, 16, dtype=torch.float64).reshape(8, 2)
    a0, a1 = x[:, 0] + 0.7, x[:, 1] - 0.4
    target = torch.stack([torch.cos(a0), torch.cos(a0) * torch.cos(a1)], dim=1)
    layer = QuantumLayer(circuit, inputs, ["w0", "w1"], ["Z0", "Z1"], seed=2, dtype=torch.complex128)
    optimizer = torch.optim.Adam(layer.parameters(), lr=0.1)
    losses = []
    for _ in range(200):
        optimizer.zero_grad()
        loss = torch.mean((layer(x) - target) ** 2)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[0] > 0.05 and losses[-1] < 1e-8
    found = torch.remainder(layer.weights.detach() - torch.tensor([0.7, -0.4], dtype=torch.float64) + math.pi,
                            2 * math.pi) - math.pi
    torch.testing.assert_close(found, torch.zeros(2, dtype=torch.float64), atol=1e-3, rtol=0)


def test_a_reuploading_layer_with_a_linear_head_classifies_the_two_moons() -> None:
    """The bundled two-moons set: 40 seeded Adam steps on all 200 points bring the loss from ~0.66 to below 0.2."""
    points, labels = load_two_moons()
    circuit, inputs, weights = data_reuploading(2, 3)
    with torch.random.fork_rng():
        torch.manual_seed(0)  # the head's initialisation
        model = torch.nn.Sequential(
            QuantumLayer(circuit, inputs, weights, ["Z0", "Z1"], init="normal", init_std=0.5, seed=0,
                         dtype=torch.complex128),
            torch.nn.Linear(2, 1, dtype=torch.float64))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    loss_function = torch.nn.BCEWithLogitsLoss()
    losses = []
    for _ in range(40):
        optimizer.zero_grad()
        loss = loss_function(model(points.double()).squeeze(-1), labels.double())
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        accuracy = ((model(points.double()).squeeze(-1) > 0).long() == labels).double().mean().item()
    assert losses[0] > 0.6 and losses[-1] < 0.2 and accuracy >= 0.93


class ValuesOnly(RunsQubitBatches):
    """A backend that returns values without gradients (as a remote one does)."""

    name = "values-only"

    def __init__(self) -> None:
        self.local = LocalBackend()

    def probs(self, circuit, params, *, dtype, device):
        with torch.no_grad():
            return self.local.probs(circuit, params, dtype=dtype, device=device)

    def expval(self, circuit, observables, params, *, dtype, device):
        with torch.no_grad():
            return self.local.expval(circuit, observables, params, dtype=dtype, device=device)

    def sample(self, circuit, shots, params, *, seed, dtype, device):
        return self.local.sample(circuit, shots, params, seed=seed, dtype=dtype, device=device)


def test_a_values_only_backend_trains_by_parameter_shift_and_refuses_backprop() -> None:
    circuit, inputs, weights = model()
    x = torch.randn(3, 2, dtype=torch.float64)
    local = QuantumLayer(circuit, inputs, weights, OBSERVABLES, seed=3, dtype=torch.complex128)
    remote = QuantumLayer(circuit, inputs, weights, OBSERVABLES, backend=ValuesOnly(), seed=3, dtype=torch.complex128)
    for layer in (local, remote):
        layer(x).sum().backward()
    torch.testing.assert_close(remote.weights.grad, local.weights.grad, atol=1e-10, rtol=0)
    refusing = QuantumLayer(circuit, inputs, weights, ["Z0"], backend=ValuesOnly(), diff_method="backprop")
    with pytest.raises(InputError, match="diff_method='backprop' needs a backend whose results carry autograd"):
        refusing(torch.zeros(1, 2))
    with torch.no_grad():  # values alone need no gradient method
        assert refusing(torch.zeros(1, 2)).shape == (1, 1)


def test_bad_construction_is_an_input_error_naming_the_problem() -> None:
    circuit, inputs, weights = model()
    cases = [
        (dict(inputs=inputs, weights=[*weights, "nope"]), "'nope' is not in the circuit"),
        (dict(inputs=inputs, weights=[*weights, "x0"]), "'x0' is named both in inputs and in weights"),
        (dict(inputs=inputs, weights=weights[1:]), f"parameter {weights[0]!r} is neither an input nor a weight"),
        (dict(inputs=inputs, weights=[*weights, weights[0]]), f"name parameter {weights[0]!r} twice"),
        (dict(inputs="x0", weights=weights), "inputs must be a list of parameter names"),
        (dict(inputs=inputs, weights=weights, diff_method="magic"), "unknown diff_method 'magic'"),
        (dict(inputs=inputs, weights=weights, shots=0), "shots must be a positive integer"),
        (dict(inputs=inputs, weights=weights, init="xavier"), "unknown init 'xavier'"),
        (dict(inputs=inputs, weights=weights, seed=1.5), "seed must be an integer"),
        (dict(inputs=inputs, weights=weights, init=[0.1, 0.2]), "init values must have shape"),
        (dict(inputs=inputs, weights=weights, observables=["Z5"]), "Z5"),
        (dict(inputs=inputs, weights=weights, backend="nowhere"), "unknown backend 'nowhere'"),
    ]
    for options, message in cases:
        options.setdefault("observables", ["Z0"])
        with pytest.raises(InputError, match=message):
            QuantumLayer(circuit, **options)
    with pytest.raises(InputError, match="takes a qubit qvec.Circuit"):
        QuantumLayer(qvec.photonic.Circuit(1), [], [], ["Z0"])


def test_bad_inputs_are_an_input_error_naming_the_expected_size() -> None:
    circuit, inputs, weights = model()
    layer = QuantumLayer(circuit, inputs, weights, ["Z0"], seed=0)
    with pytest.raises(InputError, match=r"x must have last dimension 2 .* got shape \(4, 3\)"):
        layer(torch.zeros(4, 3))
    with pytest.raises(InputError, match="last dimension 2"):
        layer(torch.tensor(1.0))
    with pytest.raises(InputError, match="empty batch"):
        layer(torch.zeros(0, 2))
    with pytest.raises(InputError, match="must be a real tensor"):
        layer(torch.zeros(1, 2, dtype=torch.complex64))
    with pytest.raises(InputError, match="call it with x of shape"):
        layer()


@pytest.mark.parametrize("fast", [True, False])
def test_a_layer_first_run_under_inference_mode_still_trains(fast, monkeypatch):
    """Tables and plans cached while torch.inference_mode() was on must not be inference tensors: a training step
    after an evaluation under it gives the gradients a fresh process would."""
    from qvec.circuit.observables import Hamiltonian
    from qvec.sim import _parse_observables, fastpath
    from qvec.sim.simulate import PLANS
    from qvec.sim.measure import phase_table
    from qvec.sim.program import compile_program

    if not fast:
        monkeypatch.setattr(fastpath, "FAST_MAX_AMPLITUDES", 0)
    circuit = Circuit(3)
    for q in range(3):
        circuit.ry(q, f"x{q}").rz(q, f"w{q}")
    circuit.cx(0, 1).cx(1, 2).rx(2, "w3")
    observables = ["Z0", "X1 Y2", Hamiltonian([(0.5, "Z0 Z2"), (-0.25, "Y1")])]
    x = torch.rand(4, 3, generator=torch.Generator().manual_seed(0))

    def gradient(evaluate_first: bool) -> torch.Tensor:
        for cache in (phase_table, _parse_observables, compile_program):
            cache.cache_clear()
        PLANS.clear()
        layer = QuantumLayer(circuit, ["x0", "x1", "x2"], ["w0", "w1", "w2", "w3"], observables, seed=1)
        return weight_gradient(layer, x, evaluate_first)

    assert torch.allclose(gradient(True), gradient(False), atol=1e-6)
