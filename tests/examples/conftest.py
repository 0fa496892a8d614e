"""Running the scripts of examples/ as a user would: a fresh interpreter from the repository root."""

import functools
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def run_example():
    """Run ``examples/<name>`` (or any argv after the interpreter) once and return ``{label: [numbers]}`` of its lines."""

    @functools.cache
    def run(*argv: str) -> dict[str, list[float]]:
        completed = subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True, timeout=240)
        assert completed.returncode == 0, completed.stderr
        return parse_lines(completed.stdout)

    return run


def parse_lines(output: str) -> dict[str, list[float]]:
    """``"label: 1.0 2.5"`` lines -> ``{"label": [1.0, 2.5]}``; other lines are ignored."""
    values = {}
    for line in output.splitlines():
        label, colon, rest = line.rpartition(":")
        numbers = rest.split()
        if colon and numbers and all(re.fullmatch(r"-?\d+(\.\d+)?", n) for n in numbers):
            values[label.strip()] = [float(n) for n in numbers]
    return values
