"""bench/bench_qubit.py records each side's precision: qvec in every --dtype asked for, PennyLane in complex128."""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "bench_qubit.py"


def test_each_row_and_the_record_name_their_precision(tmp_path):
    output = tmp_path / "qubit.json"
    command = [sys.executable, str(SCRIPT), "--qubits", "2", "--batches", "2", "--layers", "1", "--min-seconds", "0.01",
               "--repeats", "1", "--threads", "1", "--dtype", "complex64", "complex128", "--output", str(output)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    record = json.loads(output.read_text())
    assert [(row["engine"], row["dtype"]) for row in record["results"]] == [("qvec", "complex64"), ("qvec", "complex128")]
    assert all(row["samples_per_s"] > 0 for row in record["results"])
    assert record["precision"] == {"qvec": ["complex64", "complex128"], "pennylane": None}
    assert record["torch_threads_per_run"] == 1 and "--dtype complex64 complex128" in record["command"]
