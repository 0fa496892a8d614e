"""`qvec demo` trains and prints its accuracy; Ctrl-C and SIGTERM stop it with what was reached and 130 / 143."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from rich.progress import Progress

from qvec.cli import main


def test_demo_runs_and_reports_accuracy(capsys) -> None:
    assert main(["demo", "--epochs", "3"]) == 0
    out = capsys.readouterr().out
    assert "test accuracy" in out and "epoch 3/3" in out


@pytest.mark.usefixtures("sigint_handled")
@pytest.mark.parametrize("signum, status, word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_a_signal_reports_what_was_reached_and_exits_128_plus_its_number(monkeypatch, capsys, signum, status, word) -> None:
    update = Progress.update

    def signal_after_epoch_2(self, task, **fields):
        update(self, task, **fields)
        if fields.get("completed") == 2:
            signal.raise_signal(signum)  # SIGINT: what the terminal sends on Ctrl-C; SIGTERM: kill, timeout, Slurm

    monkeypatch.setattr(Progress, "update", signal_after_epoch_2)
    assert main(["demo", "--epochs", "50"]) == status
    captured = capsys.readouterr()
    assert "stopped after epoch 2" in captured.out and "test accuracy" in captured.out
    assert captured.err.strip().startswith(word)


def test_sigterm_from_another_process_exits_143(tmp_path) -> None:
    """A real `kill` from outside, wherever the demo is when it lands."""
    process = subprocess.Popen([str(Path(sys.executable).with_name("qvec")), "demo", "--epochs", "1000000"], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().startswith("Training")  # printed inside the command: the handler is set
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 143 and err.strip().startswith("terminated"), err
