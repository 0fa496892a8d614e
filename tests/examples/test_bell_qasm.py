"""examples/bell.qasm through ``qvec run --json``: the Bell state's probabilities, 0.5 on |00> and |11>."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_qvec_run_gives_the_bell_probabilities():
    qvec = shutil.which("qvec", path=str(Path(sys.executable).parent))
    completed = subprocess.run([qvec, "run", "examples/bell.qasm", "--json"], cwd=ROOT, capture_output=True,
                               text=True, timeout=240)
    assert completed.returncode == 0, completed.stderr
    (result,) = json.loads(completed.stdout)
    assert result["n_qubits"] == 2
    assert result["probabilities"] == pytest.approx([0.5, 0.0, 0.0, 0.5], abs=1e-6)
