"""Training: W1 falls, the run folder holds what it should, and Ctrl-C + --resume equals an uninterrupted run."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch

from qvec.apps.qgan.training import EVAL_SEED_OFFSET, QGANConfig, build_models, evaluate, resolve_target, train
from qvec.errors import InputError

SMALL = dict(cutoff=10, layers=1, batch_size=32, n_critic=2, eval_samples=256, grid_points=64)


def _without_time(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def test_training_moves_w1_down_by_a_clear_margin(tmp_path: Path) -> None:
    config = QGANConfig(target="gaussian", latent_dim=0, g_lr=0.05, lr_final=1.0, epochs=2, steps_per_epoch=8,
                        **{**SMALL, "n_critic": 5})
    target = resolve_target(config)
    reference = target.sample(config.eval_samples, torch.Generator().manual_seed(config.seed + EVAL_SEED_OFFSET))
    untrained, _ = build_models(config, target)
    before = evaluate(untrained, target, reference, 0, config.seed)[0]["w1"]
    result = train(config, tmp_path / "run")
    assert not result.interrupted and len(result.history) == 2
    assert result.history[-1]["w1"] < 0.5 * before, (before, result.history)


def test_run_folder_holds_config_metrics_and_checkpoint(tmp_path: Path) -> None:
    config = QGANConfig(target="four_gaussians", epochs=2, steps_per_epoch=2, **SMALL)
    result = train(config, tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["target"] == "four_gaussians"
    rows = json.loads((tmp_path / "metrics.json").read_text())
    assert [row["epoch"] for row in rows] == [1, 2] and rows == result.history
    with open(tmp_path / "metrics.csv", newline="") as file:
        table = list(csv.DictReader(file))
    assert float(table[1]["w1"]) == pytest.approx(rows[1]["w1"])
    for key in ("w1", "w1_matching", "mean_x", "std_y", "lost_norm", "modes_covered", "on_target", "critic_loss"):
        assert key in rows[0], key
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert set(saved) >= {"generator", "critic", "g_optimizer", "d_optimizer"}


def test_interrupt_then_resume_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    config = QGANConfig(target="bimodal", epochs=3, steps_per_epoch=3, readout="sample", **SMALL)
    whole = train(config, tmp_path / "whole")

    def interrupt(epoch: int, step: int, losses: dict) -> None:
        if (epoch, step) == (2, 2):  # mid-epoch: epoch 2's partial work must be discarded and replayed
            raise KeyboardInterrupt

    stopped = train(config, tmp_path / "split", on_step=interrupt)
    assert stopped.interrupted and [row["epoch"] for row in stopped.history] == [1]
    assert "kept 1 completed epoch" in stopped.kept
    resumed = train(config, tmp_path / "split", resume=True)
    assert not resumed.interrupted
    assert _without_time(resumed.history) == _without_time(whole.history)
    a = torch.load(tmp_path / "whole" / "checkpoint.pt", weights_only=True)
    b = torch.load(tmp_path / "split" / "checkpoint.pt", weights_only=True)
    for part in ("generator", "critic"):
        for key in a[part]:
            assert torch.equal(a[part][key], b[part][key]), (part, key)


def test_a_second_run_into_the_same_folder_needs_resume(tmp_path: Path) -> None:
    config = QGANConfig(epochs=1, steps_per_epoch=1, **SMALL)
    train(config, tmp_path)
    with pytest.raises(InputError, match="--resume"):
        train(config, tmp_path)


@pytest.mark.parametrize("change, message", [
    (dict(modes=1, target="ring"), "--modes 1: fewer than the target's 2"),
    (dict(batch_size=0), "--batch-size 0"),
    (dict(g_lr=0.0), "--g-lr"),
    (dict(lr_final=0.0), "--lr-final"),
    (dict(target="moon"), "unknown --target 'moon'"),
])
def test_bad_settings_are_one_line_input_errors(tmp_path: Path, change: dict, message: str) -> None:
    config = QGANConfig(**{**SMALL, "epochs": 1, "steps_per_epoch": 1, **change})
    with pytest.raises(InputError, match=message) as error:
        train(config, tmp_path)
    assert "\n" not in str(error.value)


def test_sampled_readouts_score_function_gradient_estimates_the_exact_one() -> None:
    from qvec.apps.qgan.generator import Grid, QuantumGenerator
    from qvec.apps.qgan.training import _expected_score

    def gradient(readout: str) -> torch.Tensor:
        generator = QuantumGenerator(Grid(-5.0, 5.0, 41, 1), layers=1, cutoff=8, readout=readout, seed=3,
                                     init_std=0.3, dtype=torch.complex128)
        critic = lambda x: torch.sin(x[:, 0].double()) + 0.3 * x[:, 0].double()  # noqa: E731 - a fixed smooth critic
        state = generator.run(torch.full((1, 1), 0.3, dtype=torch.float64))
        score = _expected_score(generator, critic, state, 40_000, torch.Generator().manual_seed(0))
        return torch.autograd.grad(score, generator.layer.weights)[0]

    exact, estimate = gradient("density"), gradient("sample")
    # Monte Carlo error ~ 1/sqrt(40000) of the spread: 3% of the gradient's norm is several standard errors
    assert float((estimate - exact).norm()) < 0.03 * float(exact.norm()), (exact, estimate)
