"""`qvec train classify` and `qvec demo`: outputs, one-line errors, Ctrl-C keeps epochs, --resume continues."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from qvec.apps.classify import train as train_module
from qvec.cli import main

SMALL = ["--quick-test", "--train-samples", "60", "--test-samples", "30", "--qubits", "2", "--layers", "1",
         "--features", "8", "--batch-size", "20"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _metrics(out: Path) -> list[dict]:
    return [{k: v for k, v in row.items() if not k.endswith(".seconds")}
            for row in json.loads((out / "metrics.json").read_text())]


def test_quick_test_writes_metrics_checkpoint_plots_and_a_summary(tmp_path, capsys) -> None:
    assert main(["train", "classify", *SMALL, "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "after 2 epoch(s)" in out and "│ quantum" in out and "│ classical" in out
    assert len(_metrics(tmp_path / "run")) == 2  # --quick-test: two epochs
    for name in ("curves.png", "confusion.png", "misclassified.png"):
        assert (tmp_path / "run" / name).read_bytes()[:8] == PNG_SIGNATURE
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["qubits"] == 2 and config["train_samples"] == 60 and config["template"] == "strongly-entangling"


@pytest.mark.parametrize("args, message", [
    (["--dataset", "npz", "--data", "nowhere.npz"], "error: --data nowhere.npz: no such file or folder"),
    (["--dataset", "mnist"], "error: --dataset mnist needs --data PATH"),
    (["--encoder", "reuploading", "--template", "basic-entangler"], "leave --template out"),
    (["--no-mock", "--backend", "local"], "--no-mock runs on IonQ"),
    (["--qubits", "0"], "--qubits"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, message) -> None:
    assert main(["train", "classify", *SMALL, *args, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


def test_ionq_without_a_key_says_so_in_one_line(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("IONQ_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    assert main(["train", "classify", *SMALL, "--no-mock", "--out", "run"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "IONQ_API_KEY" in err and len(err.splitlines()) == 1


def test_an_existing_run_needs_resume_and_resume_refuses_a_changed_setting(tmp_path, capsys) -> None:
    out = str(tmp_path / "run")
    assert main(["train", "classify", *SMALL, "--epochs", "1", "--out", out]) == 0
    assert main(["train", "classify", *SMALL, "--epochs", "1", "--out", out]) == 2
    assert "use --resume or another --out" in capsys.readouterr().err
    assert main(["train", "classify", *SMALL, "--qubits", "3", "--out", out, "--resume"]) == 2
    assert "--resume: qubits was 2" in capsys.readouterr().err


@pytest.fixture
def interrupt_in_epoch_2(monkeypatch):
    """Ctrl-C during the second epoch's third training step, deterministically (no timing)."""
    original, calls = train_module._train_epoch, []

    def train_epoch(name, model, optimizer, data, batch_size, generator, on_step):
        def step(*args):
            if on_step is not None:
                on_step(*args)
            calls.append(args)
            if len(calls) == 3 + 2 * 3:  # 3 steps per model per epoch, two models
                raise KeyboardInterrupt
        return original(name, model, optimizer, data, batch_size, generator, step)

    monkeypatch.setattr(train_module, "_train_epoch", train_epoch)


def test_ctrl_c_keeps_completed_epochs_and_resume_matches_an_uninterrupted_run(tmp_path, capsys, monkeypatch,
                                                                              interrupt_in_epoch_2) -> None:
    assert main(["train", "classify", *SMALL, "--epochs", "3", "--out", str(tmp_path / "cut")]) == 130
    captured = capsys.readouterr()
    assert "kept 1 completed epoch(s)" in captured.out.replace("\n", " ") and captured.err.strip() == "interrupted"
    monkeypatch.undo()
    assert main(["train", "classify", *SMALL, "--epochs", "3", "--out", str(tmp_path / "cut"), "--resume"]) == 0
    assert main(["train", "classify", *SMALL, "--epochs", "3", "--out", str(tmp_path / "straight")]) == 0
    assert _metrics(tmp_path / "cut") == _metrics(tmp_path / "straight")


def test_demo_is_the_quick_test(tmp_path, capsys) -> None:
    assert main(["demo", "--out", str(tmp_path / "demo"), "--epochs", "1"]) == 0
    config = json.loads((tmp_path / "demo" / "config.json").read_text())
    assert config["train_samples"] == 256 and config["test_samples"] == 128 and config["qubits"] == 8
    assert (tmp_path / "demo" / "checkpoint.pt").exists()


def test_sigterm_from_another_process_keeps_the_epochs_and_exits_143(tmp_path) -> None:
    """A real `kill` from outside, wherever training is when it lands."""
    process = subprocess.Popen([str(Path(sys.executable).with_name("qvec")), "demo", "--epochs", "1000000"],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().startswith("digits")  # printed inside the command: the handler is set
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 143 and err.strip().startswith("terminated"), err
    assert "completed epoch" in out.replace("\n", " ") or "nothing kept" in out.replace("\n", " ")


def test_the_choices_in_help_are_the_applications_own() -> None:
    """The command lists them itself (its --help imports no torch): they must not drift from the library's."""
    from qvec.apps.classify import DATASETS, ENCODERS, TEMPLATES
    from qvec.cli import train_classify
    from qvec.execute import DIFF_METHODS

    assert train_classify.DATASETS == DATASETS and train_classify.ENCODERS == ENCODERS
    assert train_classify.TEMPLATES == tuple(TEMPLATES) and set(train_classify.DIFF_METHODS) == set(DIFF_METHODS)
