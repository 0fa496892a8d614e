"""The run folder: atomic files, metrics that agree, config checks on resume, checkpoints that replay exactly."""

from __future__ import annotations

import csv
import json
import os
import random
import signal
from pathlib import Path

import numpy as np
import pytest
import torch

from qvec.apps import runlog
from qvec.apps.runlog import RunDir, defer_interrupts, restore_rng_state, rng_state
from qvec.errors import InputError

CONFIG = {"dataset": "digits", "qubits": 4, "seed": 0, "epochs": 3, "learning_rate": 0.01}


def _rows(path: Path) -> tuple[list[dict], list[dict]]:
    with open(path / "metrics.csv", newline="") as file:
        return json.loads((path / "metrics.json").read_text()), list(csv.DictReader(file))


def test_metrics_json_and_csv_hold_the_same_rows(tmp_path) -> None:
    run = RunDir(tmp_path / "run", CONFIG, resume=False)
    written = [{"epoch": 1, "loss": 0.1 + 0.2, "test_accuracy": 1 / 3}, {"epoch": 2, "loss": 1e-17, "test_accuracy": 0.5}]
    for row in written:
        run.log_epoch(row)
    as_json, as_csv = _rows(tmp_path / "run")
    assert as_json == written == run.history
    assert [{key: float(value) for key, value in row.items()} for row in as_csv] == as_json  # exact round trip


def test_csv_header_is_every_key_in_order_of_first_appearance(tmp_path) -> None:
    run = RunDir(tmp_path, CONFIG, resume=False)
    run.log_epoch({"epoch": 1, "loss": 0.5})
    run.log_epoch({"epoch": 2, "loss": 0.4, "test_accuracy": 0.9})
    lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert lines == ["epoch,loss,test_accuracy", "1,0.5,", "2,0.4,0.9"]


def test_config_json_is_written(tmp_path) -> None:
    RunDir(tmp_path / "a" / "b", CONFIG, resume=False)
    assert json.loads((tmp_path / "a" / "b" / "config.json").read_text()) == CONFIG


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch) -> None:
    run = RunDir(tmp_path, CONFIG, resume=False)
    run.log_epoch({"epoch": 1, "loss": 0.5})
    before = (tmp_path / "metrics.json").read_bytes()

    def interrupted_replace(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(runlog.os, "replace", interrupted_replace)
    with pytest.raises(KeyboardInterrupt):
        run.log_epoch({"epoch": 2, "loss": 0.4})
    assert (tmp_path / "metrics.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "metrics.csv", "metrics.json"]


def test_a_folder_with_a_checkpoint_is_refused_without_resume(tmp_path) -> None:
    RunDir(tmp_path, CONFIG, resume=False).end_epoch({"epoch": 1}, {})
    with pytest.raises(InputError, match="use --resume or another --out"):
        RunDir(tmp_path, CONFIG, resume=False)


def test_a_file_as_out_is_refused(tmp_path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        RunDir(tmp_path / "f", CONFIG, resume=False)


@pytest.mark.parametrize("key, value", [("qubits", 8), ("learning_rate", 0.02), ("new_setting", 1)])
def test_resume_refuses_a_config_that_changes_the_result_naming_the_key(tmp_path, key, value) -> None:
    RunDir(tmp_path, CONFIG, resume=False).end_epoch({"epoch": 1}, {})
    with pytest.raises(InputError, match=rf"^--resume: {key} was .* now {value!r}"):
        RunDir(tmp_path, {**CONFIG, key: value}, resume=True)


def test_resume_accepts_more_epochs_and_records_them(tmp_path) -> None:
    RunDir(tmp_path, CONFIG, resume=False).end_epoch({"epoch": 1}, {})
    run = RunDir(tmp_path, {**CONFIG, "epochs": 10}, resume=True)
    assert run.load_checkpoint() == {}
    assert run.epochs_done == 1
    assert json.loads((tmp_path / "config.json").read_text())["epochs"] == 10


def test_load_checkpoint_is_none_on_a_fresh_run(tmp_path) -> None:
    assert RunDir(tmp_path, CONFIG, resume=True).load_checkpoint() is None


def test_a_damaged_checkpoint_is_one_input_error_naming_it(tmp_path) -> None:
    RunDir(tmp_path, CONFIG, resume=False)
    (tmp_path / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="checkpoint.pt: not a readable checkpoint"):
        RunDir(tmp_path, CONFIG, resume=True).load_checkpoint()


def test_rng_state_round_trip_replays_every_generator() -> None:
    generator = torch.Generator().manual_seed(5)
    state = rng_state([generator])

    def draws() -> tuple:
        return (torch.rand(3).tolist(), np.random.rand(3).tolist(), random.random(), random.gauss(0, 1),
                torch.rand(3, generator=generator).tolist())

    first = draws()
    restore_rng_state(state, [generator])
    assert draws() == first


def _train(run: RunDir, epochs: int, stop_at: int | None = None) -> torch.nn.Module:
    """A seeded toy loop in the shape the training commands use: dropout and shuffles draw from the RNGs."""
    generator = torch.Generator().manual_seed(1)
    torch.manual_seed(0), np.random.seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.5), torch.nn.Linear(8, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    state = run.load_checkpoint([generator])
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
    x = torch.linspace(-1, 1, 64).reshape(16, 4)
    for epoch in range(run.epochs_done + 1, epochs + 1):
        for step, batch in enumerate(torch.randperm(16, generator=generator).split(4)):
            if epoch == stop_at and step == 2:
                raise KeyboardInterrupt  # mid-epoch: this epoch's two steps so far must be discarded
            optimizer.zero_grad()
            loss = (model(x[batch]) - x[batch].sum(1, keepdim=True) * np.random.rand()).pow(2).mean()
            loss.backward()
            optimizer.step()
        run.end_epoch({"epoch": epoch, "loss": loss.item()},
                      {"model": model.state_dict(), "optimizer": optimizer.state_dict()}, [generator])
    return model


def test_interrupt_and_resume_equals_an_uninterrupted_run(tmp_path) -> None:
    straight = _train(RunDir(tmp_path / "straight", CONFIG, resume=False), epochs=4)
    with pytest.raises(KeyboardInterrupt):
        _train(RunDir(tmp_path / "stopped", CONFIG, resume=False), epochs=4, stop_at=3)
    assert len(json.loads((tmp_path / "stopped" / "metrics.json").read_text())) == 2
    torch.manual_seed(123), np.random.seed(123), random.seed(123)  # whatever ran in between must not matter
    resumed = _train(RunDir(tmp_path / "stopped", CONFIG, resume=True), epochs=4)
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)
    assert _rows(tmp_path / "straight") == _rows(tmp_path / "stopped")


def test_resume_rewrites_metrics_that_lag_the_checkpoint(tmp_path) -> None:
    run = RunDir(tmp_path, CONFIG, resume=False)
    run.end_epoch({"epoch": 1, "loss": 0.5}, {})
    (tmp_path / "metrics.json").write_text("[]")  # as if a crash came between the checkpoint and the metrics
    RunDir(tmp_path, CONFIG, resume=True).load_checkpoint()
    assert _rows(tmp_path)[0] == [{"epoch": 1, "loss": 0.5}]


@pytest.mark.usefixtures("sigint_handled")
def test_interrupts_are_held_until_the_write_is_done() -> None:
    done = []
    with pytest.raises(KeyboardInterrupt):
        with defer_interrupts():
            os.kill(os.getpid(), signal.SIGINT)
            done.append("write finished")
    assert done == ["write finished"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_kept_message_says_what_was_kept(tmp_path) -> None:
    run = RunDir(tmp_path, CONFIG, resume=False)
    assert run.kept_message().startswith("no epoch completed")
    run.end_epoch({"epoch": 1}, {})
    assert "kept 1 completed epoch(s)" in run.kept_message() and "--resume" in run.kept_message()
