"""The command group: -v on any command, exit codes for usage errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from qvec.cli import main

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
