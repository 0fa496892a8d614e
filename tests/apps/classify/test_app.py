"""The classifier end to end on a remote backend: the IonQ emulator, parameter-shift gradients, rounds logged."""

from __future__ import annotations

import logging
import math

import torch

from qvec.apps.classify.app import ClassifierOptions, open_run, prepare, run_classifier


def _options(**changes) -> ClassifierOptions:
    return ClassifierOptions(train_samples=20, test_samples=10, qubits=2, layers=1, features=4, epochs=1,
                             batch_size=10, **changes)


def test_parameter_shift_gradients_on_the_emulator_equal_backprop_locally(ionq) -> None:
    """The emulator's ideal simulator gives exact probabilities: the same model, the same batch, the same gradients."""
    remote = prepare(_options(diff_method="parameter-shift", backend="ionq"), ionq)
    local = prepare(_options(diff_method="backprop"))
    gradients = []
    for prepared in (remote, local):
        model, data = prepared.models["quantum"], prepared.features
        torch.nn.functional.cross_entropy(model(data.train_x[:10]), data.train_y[:10]).backward()
        gradients.append({name: p.grad for name, p in model.named_parameters()})
    for name, gradient in gradients[1].items():
        torch.testing.assert_close(gradients[0][name], gradient, atol=1e-5, rtol=1e-4)


def test_quick_test_on_the_emulator_completes_and_logs_each_round(ionq, tmp_path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="qvec.backends.ionq")
    remote = prepare(_options(diff_method="parameter-shift", backend="ionq"), ionq)
    outcome, plots = run_classifier(remote, open_run(remote, tmp_path, resume=False))
    assert outcome.epochs_run == 1 and all(math.isfinite(v) for v in outcome.history[0].values())
    assert all(path.exists() for path in plots)
    rounds = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ran ")]
    assert len(rounds) == 2 + 1  # per train batch one round (its rows and their shifted copies), one test batch
    assert all(" job(s) on simulator in " in message for message in rounds)
