"""The training loop: it learns, writes what it says, and a resumed run equals an uninterrupted one exactly."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from qvec.apps.classify.data import load_dataset, stratified_split
from qvec.apps.classify.model import ModelConfig, build_models
from qvec.apps.classify.train import TrainConfig, make_features, train_models
from qvec.apps.runlog import RunDir
from qvec.errors import InputError


@pytest.fixture(scope="module")
def digits():
    train, test = stratified_split(load_dataset("digits"), test_fraction=0.2, seed=0, train_size=200, test_size=100)
    return make_features(train, test, "pca", 16)


def _models(features, qubits=3, **kwargs):
    return build_models(ModelConfig(features=features.features, classes=10, qubits=qubits, layers=1, **kwargs), seed=0)


def test_pca_features_are_fitted_on_the_train_set_only(digits) -> None:
    assert digits.train_x.shape == (200, 16) and digits.test_x.shape == (100, 16)
    torch.testing.assert_close(digits.train_x.mean(0), torch.zeros(16), atol=1e-5, rtol=0)  # centred on train
    torch.testing.assert_close(digits.train_x.var(0, unbiased=True), torch.ones(16), atol=1e-4, rtol=0)  # whitened
    assert digits.test_x.mean(0).abs().max() > 1e-3  # the test set was not used to centre


def test_linear_preprocessing_passes_the_pixels_and_bad_pca_sizes_are_refused() -> None:
    train, test = stratified_split(load_dataset("digits"), test_fraction=0.2, seed=0, train_size=50, test_size=20)
    assert make_features(train, test, "linear", 0).features == 64
    with pytest.raises(InputError, match="--features 65: PCA of 50 train images of 64 pixels gives 1 to 50"):
        make_features(train, test, "pca", 65)


def test_a_short_seeded_run_beats_chance_by_far(digits) -> None:
    outcome = train_models(_models(digits, qubits=4), digits, TrainConfig(epochs=6, batch_size=16, learning_rate=0.03))
    last = outcome.history[-1]
    assert last["quantum.test_accuracy"] > 0.3 and last["classical.test_accuracy"] > 0.45  # chance: 0.1
    assert outcome.history[0]["quantum.train_loss"] > last["quantum.train_loss"]


def _without_seconds(history):
    return [{k: v for k, v in row.items() if not k.endswith(".seconds")} for row in history]


class _InterruptAfter:
    """A step hook that raises KeyboardInterrupt at the given global step: a Ctrl-C at a known point."""

    def __init__(self, steps: int) -> None:
        self.steps, self.seen = steps, 0

    def __call__(self, name: str, step: int, steps: int, loss: float) -> None:
        self.seen += 1
        if self.seen == self.steps:
            raise KeyboardInterrupt


@pytest.mark.parametrize("model_options", [{}, {"shots": 200, "diff_method": "parameter-shift"}],
                         ids=["exact", "shots"])
def test_interrupt_then_resume_equals_an_uninterrupted_run(digits, tmp_path, model_options) -> None:
    """Epoch 2 is cut off mid-way (its partial updates discarded); the resumed run ends bit for bit where the
    uninterrupted one does, shot draws included."""
    train = TrainConfig(epochs=3, batch_size=50, learning_rate=0.02)
    straight = _models(digits, qubits=2, **model_options)
    straight_outcome = train_models(straight, digits, train, RunDir(tmp_path / "a", {"x": 1}, resume=False))
    stopped_run = RunDir(tmp_path / "b", {"x": 1}, resume=False)
    steps_per_epoch = 2 * 4  # two models, 200 / 50 batches each
    with pytest.raises(KeyboardInterrupt):
        train_models(_models(digits, qubits=2, **model_options), digits, train, stopped_run,
                     on_step=_InterruptAfter(steps_per_epoch + 3))
    assert stopped_run.epochs_done == 1
    torch.manual_seed(99)  # whatever ran between the interrupt and the resume must not matter
    resumed = _models(digits, qubits=2, **model_options)
    resumed_outcome = train_models(resumed, digits, train, RunDir(tmp_path / "b", {"x": 1}, resume=True))
    assert resumed_outcome.epochs_run == 2
    for name in straight:
        for key, value in straight[name].state_dict().items():
            assert torch.equal(value, resumed[name].state_dict()[key]), (name, key)
    assert _without_seconds(resumed_outcome.history) == _without_seconds(straight_outcome.history)
    np.testing.assert_array_equal(resumed_outcome.predictions["quantum"], straight_outcome.predictions["quantum"])


def test_a_finished_run_resumed_trains_nothing_and_still_predicts(digits, tmp_path) -> None:
    train = TrainConfig(epochs=1, batch_size=100)
    first = train_models(_models(digits), digits, train, RunDir(tmp_path, {}, resume=False))
    again = train_models(_models(digits), digits, train, RunDir(tmp_path, {}, resume=True))
    assert again.epochs_run == 0 and again.history == first.history
    np.testing.assert_array_equal(again.predictions["classical"], first.predictions["classical"])


def test_metrics_rows_carry_both_models_and_the_files_agree(digits, tmp_path) -> None:
    outcome = train_models(_models(digits), digits, TrainConfig(epochs=2, batch_size=100), RunDir(tmp_path, {}, False))
    expected = {f"{model}.{metric}" for model in ("quantum", "classical")
                for metric in ("train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds")}
    assert set(outcome.history[0]) == expected | {"epoch"}
    with open(tmp_path / "metrics.csv", newline="") as file:
        as_csv = [{key: float(value) for key, value in row.items()} for row in csv.DictReader(file)]
    assert as_csv == json.loads((tmp_path / "metrics.json").read_text()) == outcome.history
    accuracy = float((torch.as_tensor(outcome.predictions["quantum"]) == digits.test_y).float().mean())
    assert outcome.history[-1]["quantum.test_accuracy"] == pytest.approx(accuracy)
