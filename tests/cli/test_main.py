"""The command group: -v on any command, a torch-free start, exit codes for errors and signals."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import qvec
import qvec.cli.run_batch
from qvec.cli import main
from qvec.errors import BackendError, BatchInterrupted, InputError, IonQError, QvecError, Terminated

BELL = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\nh q[0];\ncx q[0], q[1];\n'


@pytest.mark.parametrize("argv", [["-v", "run"], ["run", "-v"]])
def test_verbose_is_accepted_before_and_after_the_command(argv, tmp_path: Path, capsys) -> None:
    path = tmp_path / "bell.qasm"
    path.write_text(BELL)
    assert main([*argv, str(path), "--json"]) == 0
    assert logging.getLogger().level == logging.DEBUG
    assert '"probabilities"' in capsys.readouterr().out


def test_without_verbose_logs_are_warnings_only(tmp_path: Path, capsys) -> None:
    path = tmp_path / "bell.qasm"
    path.write_text(BELL)
    assert main(["run", str(path), "--json"]) == 0
    assert logging.getLogger().level == logging.WARNING


def test_unknown_command_and_option_exit_2(capsys) -> None:
    assert main(["nope"]) == 2
    assert main(["run", "--no-such-option"]) == 2
    assert "No such" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["--help"], ["--version"], ["run", "--help"], ["demo", "--help"], ["emulator", "--help"], ["bench", "--help"],
    ["nope"], ["run"], ["run", "--shots", "0", "x.qasm"], ["run", "--param", "theta", "x.qasm"], ["run", "--top", "x"],
])
def test_help_version_and_usage_errors_do_not_import_torch(argv: list[str]) -> None:
    """A fresh interpreter runs the CLI in-process; torch must still be absent afterwards."""
    code = ("import json, sys\nfrom qvec.cli import main\nstatus = main(sys.argv[1:])\n"
            "print(json.dumps({'status': status, 'torch': 'torch' in sys.modules}))")
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=120)
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen == {"status": 0 if argv[-1] in ("--help", "--version") else 2, "torch": False}, done.stderr


def test_version_prints_the_package_version(capsys) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"qvec, version {qvec.__version__}"


def test_the_backend_choice_is_the_resolvers_names() -> None:
    """The CLI lists the names itself (importing the resolver would import torch); they must not drift."""
    from qvec.backends.resolve import BACKEND_NAMES
    from qvec.cli.run import command

    [backend] = [option for option in command.params if option.name == "backend"]
    assert tuple(backend.type.choices) == BACKEND_NAMES


@pytest.mark.parametrize("error, status", [(InputError, 2), (BackendError, 1), (IonQError, 1), (QvecError, 1)])
def test_every_qvec_error_is_one_line_with_its_status(monkeypatch, capsys, tmp_path: Path, error, status) -> None:
    def raise_error(*args, **kwargs):
        raise error("first line\n  second line")

    monkeypatch.setattr(qvec.cli.run_batch, "run_files", raise_error)
    path = tmp_path / "bell.qasm"
    path.write_text(BELL)
    assert main(["run", str(path)]) == status
    assert capsys.readouterr().err == "error: first line second line\n"


def test_an_unexpected_exception_keeps_its_traceback(monkeypatch, tmp_path: Path) -> None:
    """Anything outside the QvecError tree is a bug: main does not hide it."""
    def crash(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(qvec.cli.run_batch, "run_files", crash)
    path = tmp_path / "bell.qasm"
    path.write_text(BELL)
    with pytest.raises(ZeroDivisionError):
        main(["run", str(path)])


@pytest.mark.usefixtures("sigint_handled")
@pytest.mark.parametrize("signum, status, word", [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")])
def test_a_signal_during_a_command_exits_128_plus_its_number(monkeypatch, capsys, tmp_path: Path, signum, status, word) -> None:
    monkeypatch.setattr(qvec.cli.run_batch, "run_files", lambda *args, **kwargs: signal.raise_signal(signum))
    path = tmp_path / "bell.qasm"
    path.write_text(BELL)
    previous = signal.getsignal(signal.SIGTERM)
    assert main(["run", str(path)]) == status
    assert capsys.readouterr().err.strip().startswith(word)
    assert signal.getsignal(signal.SIGTERM) is previous  # the CLI's handler lives only as long as the command


@pytest.mark.parametrize("interrupt, status", [(Terminated, 143), (BatchInterrupted, 130)])
def test_an_interrupted_remote_batch_reports_what_it_kept_in_one_line(monkeypatch, capsys, tmp_path: Path,
                                                                       interrupt, status) -> None:
    def interrupted_batch(*args, **kwargs):
        error = interrupt("interrupted")
        error.record_batch({0: {"0": 1.0}}, failed=[], unfinished=[1, 2])
        raise error

    monkeypatch.setattr(qvec.cli.run_batch, "run_files", interrupted_batch)
    path = tmp_path / "bell.qasm"
    path.write_text(BELL)
    assert main(["run", str(path)]) == status
    err = capsys.readouterr().err.strip()
    assert err.startswith("interrupted [1 circuit(s) completed") and "unfinished: circuits 1-2" in err
    assert len(err.splitlines()) == 1
