"""`qvec demo` trains and prints its accuracy."""

from __future__ import annotations

from qvec.cli import main


def test_demo_runs_and_reports_accuracy(capsys) -> None:
    assert main(["demo", "--epochs", "3"]) == 0
    out = capsys.readouterr().out
    assert "test accuracy" in out and "epoch 3/3" in out
