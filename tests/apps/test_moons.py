"""The demo classifier: real data, real learning."""

from __future__ import annotations

import torch

from qvec.apps.moons import MoonsClassifier, load_two_moons, train_classifier


def test_bundled_data_has_both_classes() -> None:
    points, labels = load_two_moons()
    assert points.shape == (200, 2)
    assert set(labels.tolist()) == {0, 1}


def test_training_beats_chance_by_far() -> None:
    result = train_classifier(epochs=60, seed=0)
    assert not result.interrupted
    assert result.train_accuracy > 0.9 and result.test_accuracy > 0.85


def test_gradients_reach_every_parameter() -> None:
    model = MoonsClassifier()
    points, _ = load_two_moons()
    model(points[:8]).sum().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and torch.any(parameter.grad != 0), name
