"""`qvec train qgan`: a run's files, Ctrl-C then --resume, and one-line errors for bad files and flags."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
import torch
from rich.progress import Progress

from qvec.cli import main

SMALL = ["--epochs", "2", "--steps-per-epoch", "2", "--cutoff", "8", "--layers", "1", "--batch-size", "16",
         "--n-critic", "2", "--grid-points", "32"]


@pytest.fixture(autouse=True)
def threads_restored() -> Iterator[None]:
    """The command sets torch's thread count (--threads); put it back for the tests that follow."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_a_run_writes_metrics_checkpoint_plots_and_a_gif(tmp_path: Path, capsys) -> None:
    assert main(["train", "qgan", "--target", "ring", "--out", str(tmp_path), *SMALL]) == 0
    rows = json.loads((tmp_path / "metrics.json").read_text())
    assert [row["epoch"] for row in rows] == [1, 2] and rows[-1]["w1"] > 0
    for name in ("distribution.png", "losses.png", "w1.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG"), name
    assert (tmp_path / "training.gif").read_bytes()[:6] == b"GIF89a"
    assert (tmp_path / "checkpoint.pt").exists() and (tmp_path / "metrics.csv").exists()
    assert "best w1" in capsys.readouterr().out


@pytest.mark.usefixtures("sigint_handled")
def test_ctrl_c_keeps_the_last_epoch_and_resume_finishes_the_run(monkeypatch, tmp_path: Path, capsys) -> None:
    update = Progress.update

    def ctrl_c_in_epoch_2(self, task, **fields):
        update(self, task, **fields)
        if fields.get("completed") == 3:  # epoch 2, step 1
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(Progress, "update", ctrl_c_in_epoch_2)
    assert main(["train", "qgan", "--out", str(tmp_path), *SMALL]) == 130
    assert "kept 1 completed epoch" in capsys.readouterr().err
    assert len(json.loads((tmp_path / "metrics.json").read_text())) == 1
    monkeypatch.setattr(Progress, "update", update)
    assert main(["train", "qgan", "--out", str(tmp_path), "--resume", *SMALL]) == 0
    assert [row["epoch"] for row in json.loads((tmp_path / "metrics.json").read_text())] == [1, 2]


@pytest.mark.parametrize("content", [np.zeros((3, 5)), "text"])
def test_a_bad_target_file_is_one_line_naming_it(tmp_path: Path, capsys, content) -> None:
    path = tmp_path / "samples.npy"
    if isinstance(content, str):
        path.write_text(content)
    else:
        np.save(path, content)
    assert main(["train", "qgan", "--target-file", str(path), "--out", str(tmp_path / "run"), *SMALL]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --target-file") and str(path) in err and "\n" not in err


def test_a_target_file_trains(tmp_path: Path) -> None:
    path = tmp_path / "samples.npy"
    np.save(path, np.random.default_rng(0).normal(1.0, 0.5, 500))
    assert main(["train", "qgan", "--target-file", str(path), "--out", str(tmp_path / "run"), *SMALL]) == 0
    assert json.loads((tmp_path / "run" / "config.json").read_text())["target_file"] == str(path)


@pytest.mark.parametrize("flags, message", [
    (["--modes", "1", "--target", "ring"], "error: --modes 1: fewer than the target's 2 coordinates"),
    (["--readout", "mean", "--latent-dim", "0"], "error: --readout mean needs --latent-dim >= 1"),
    (["--latent-dim", "3"], "error: --latent-dim 3"),
])
def test_inconsistent_flags_are_one_line_errors(tmp_path: Path, capsys, flags: list[str], message: str) -> None:
    assert main(["train", "qgan", "--out", str(tmp_path), *SMALL, *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(message) and "\n" not in err


@pytest.mark.parametrize("flags", [["--batch-size", "0"], ["--target", "moon"], ["--g-lr", "-1"], ["--cutoff", "x"]])
def test_invalid_flag_values_are_usage_errors(tmp_path: Path, capsys, flags: list[str]) -> None:
    assert main(["train", "qgan", "--out", str(tmp_path), *flags]) == 2
    assert flags[0] in capsys.readouterr().err


def test_the_flag_choices_are_the_librarys_names() -> None:
    from qvec.apps.qgan.generator import READOUTS
    from qvec.apps.qgan.targets import TARGETS
    from qvec.cli import train_qgan

    assert train_qgan.TARGET_NAMES == tuple(TARGETS) and train_qgan.READOUTS == READOUTS
