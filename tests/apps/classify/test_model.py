"""The hybrid model and its classical twin: shapes, the circuit's wiring against closed forms, config checks."""

from __future__ import annotations

import pytest
import torch

from qvec.apps.classify.model import ENCODERS, ModelConfig, QuantumBottleneck, build_models
from qvec.errors import InputError


@pytest.mark.parametrize("encoder", ENCODERS)
def test_both_models_map_features_to_class_logits_through_a_bottleneck_of_equal_width(encoder) -> None:
    config = ModelConfig(features=6, classes=4, qubits=3, layers=1, encoder=encoder,
                         template=None if encoder == "reuploading" else "strongly-entangling")
    models = build_models(config, seed=0)
    x = torch.randn(5, 6)
    for model in models.values():
        assert model.bottleneck(x).shape == (5, 3)
        assert model(x).shape == (5, 4)
    assert models["quantum"].head.in_features == models["classical"].head.in_features == 3


def test_the_quantum_bottleneck_is_cos_of_the_encoded_angles_as_textbook_gates_give() -> None:
    """RX(a_q) then basic_entangler's RX(w_q) and one CNOT(0, 1): <Z0> = cos(a0 + w0), <Z1> = cos(a0 + w0) cos(a1 + w1)."""
    config = ModelConfig(features=2, classes=2, qubits=2, layers=1, template="basic-entangler")
    bottleneck = QuantumBottleneck(config, seed=0)
    weights = torch.tensor([0.3, -0.7])
    with torch.no_grad():
        bottleneck.layer.weights.copy_(weights)
    x = torch.randn(7, 2)
    angles = bottleneck.project(x).detach() + weights
    expected = torch.stack([torch.cos(angles[:, 0]), torch.cos(angles[:, 0]) * torch.cos(angles[:, 1])], dim=1)
    torch.testing.assert_close(bottleneck(x).detach(), expected, atol=1e-5, rtol=1e-5)


def test_gradients_reach_every_parameter_of_both_models() -> None:
    models = build_models(ModelConfig(features=4, classes=3, qubits=2, layers=1), seed=1)
    for model in models.values():
        torch.nn.functional.cross_entropy(model(torch.randn(6, 4)), torch.tensor([0, 1, 2, 0, 1, 2])).backward()
        for name, parameter in model.named_parameters():
            assert parameter.grad is not None and torch.any(parameter.grad != 0), name


def test_the_same_seed_builds_the_same_models() -> None:
    config = ModelConfig(features=4, classes=3, qubits=2)
    first, second = build_models(config, seed=7), build_models(config, seed=7)
    for name in first:
        for a, b in zip(first[name].state_dict().values(), second[name].state_dict().values()):
            assert torch.equal(a, b)


@pytest.mark.parametrize("kwargs, message", [
    ({"encoder": "reuploading"}, "leave --template out"),
    ({"template": None}, "needs a --template"),
    ({"encoder": "basis"}, "unknown encoder 'basis'"),
    ({"template": "ring"}, "unknown template 'ring'"),
])
def test_a_bad_model_config_is_one_input_error(kwargs, message) -> None:
    with pytest.raises(InputError, match=message):
        ModelConfig(features=4, classes=2, **kwargs)
