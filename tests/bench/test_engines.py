"""qvec.bench.engines and peers: the peers compute qvec's values on the same circuit; the workers' rows (the
commands: tests/cli; the interleaved rounds: test_workers.py).

Times are recorded, never asserted.
"""

import sys

import numpy as np
import pytest
import torch

from qvec.bench import engines
from qvec.bench.engines import engine_run, ratios, run_engines
from qvec.bench.workloads import gan_workload, qubit_workload

QUBITS = qubit_workload(3, 2)
PHOTONS = gan_workload(2, 6, 1)


def _dense_standard_circuit(workload, x, weights):
    """<Z_q> of the standard circuit from dense 2**n matrices in float64 (qubit 0 the least significant bit)."""
    n = workload.size
    rotation = {"rx": lambda t: np.array([[np.cos(t / 2), -1j * np.sin(t / 2)], [-1j * np.sin(t / 2), np.cos(t / 2)]]),
                "ry": lambda t: np.array([[np.cos(t / 2), -np.sin(t / 2)], [np.sin(t / 2), np.cos(t / 2)]]),
                "rz": lambda t: np.diag([np.exp(-0.5j * t), np.exp(0.5j * t)])}
    bits = (np.arange(2**n)[:, None] >> np.arange(n)) & 1

    def on(q, matrix):
        full = np.eye(1)
        for wire in reversed(range(n)):
            full = np.kron(full, matrix if wire == q else np.eye(2))
        return full

    def cnot(control, target):
        flipped = np.arange(2**n) ^ (bits[:, control] << target)
        return np.eye(2**n)[flipped].T

    w = weights.reshape(workload.layers, n, 3)
    values = []
    for row in x:
        state = np.zeros(2**n, complex)
        state[0] = 1
        for q in range(n):
            state = on(q, rotation["ry"](row[q])) @ state
        for layer in range(workload.layers):
            for q in range(n):
                for k, gate in enumerate(("rx", "ry", "rz")):
                    state = on(q, rotation[gate](w[layer, q, k])) @ state
            for q in range(n):
                state = cnot(q, (q + 1) % n) @ state
        values.append([(np.abs(state) ** 2 * (1 - 2 * bits[:, q])).sum() for q in range(n)])
    return np.array(values)


def test_qvec_step_values_match_a_dense_reference():
    x, weights = QUBITS.inputs(4).double().numpy(), QUBITS.layer().weights.detach().double().numpy()
    assert np.allclose(engine_run("qvec", QUBITS, 4).values(), _dense_standard_circuit(QUBITS, x, weights), atol=1e-5)


@pytest.mark.parametrize("peer", ["pennylane", "tensorcircuit"])
def test_qubit_peers_agree_with_qvec(peer):
    pytest.importorskip(engines.PEER_PACKAGES[peer][0])
    run = engine_run(peer, QUBITS, 4)
    assert np.allclose(run.values(), engine_run("qvec", QUBITS, 4).values(), atol=1e-5)
    run.step()  # the timed step runs (forward and backward)


def test_piquasso_agrees_with_qvec_on_the_gan_generator():
    pytest.importorskip("piquasso")
    # Piquasso's cutoff bounds the total photon number, qvec's each mode's: they differ by the truncated tail only
    assert np.allclose(engine_run("piquasso", PHOTONS, 3).values(), engine_run("qvec", PHOTONS, 3).values(), atol=1e-3)


def test_ratios_name_each_peer_and_batch():
    rows = [{"engine": "qvec", "batch": 1, "samples_per_s": 300.0}, {"engine": "pennylane", "batch": 1, "samples_per_s": 100.0},
            {"engine": "tensorcircuit", "batch": 1, "skipped": "skipped: not installed"}]
    assert ratios(rows) == {("pennylane", 1): 3.0}


def test_qvec_workers_give_a_row_per_batch_with_its_figures():
    rows = run_engines(["qvec"], QUBITS, [1, 2], 0.0, 2, 1, 120, None)
    assert [(r["engine"], r["batch"]) for r in rows] == [("qvec", 1), ("qvec", 2)]
    for row in rows:
        assert {"precision", "threads", "samples_per_s", "min", "max", "first_step_s", "compile_s", "peak_rss_mib",
                "protocol"} <= set(row), row
        assert row["samples_per_s"] > 0 and row["min"] <= row["samples_per_s"] <= row["max"]
        assert row["precision"] == "complex64" and row["threads"] == 1 and row["compile_s"] is None
        assert row["protocol"] == "interleaved" and "compiles" not in row


# Stands in for Strawberry Fields: qvec's first-step values shifted by ``SHIFT``, made-up rates.
FAKE_STRAWBERRY_FIELDS = """\
import json, sys
job = json.loads(sys.stdin.readline())
print(json.dumps({"first_step_s": 1.0, "strawberryfields": "fake", "values": VALUES}), flush=True)
for command in sys.stdin:
    if command.strip() == "finish":
        print(json.dumps({"peak_rss_mib": 0.0}), flush=True)
        break
    print(json.dumps({"samples_per_s": 5.0}), flush=True)
"""


def test_strawberry_fields_outputs_are_recorded_as_their_difference_from_qvec(tmp_path):
    """The peer's first-step outputs are compared with qvec's on the same inputs and weights; only the largest
    difference is kept."""
    with torch.no_grad():
        shifted = (PHOTONS.layer()(PHOTONS.inputs(3)).double() + 1e-3).tolist()
    script = tmp_path / "fake_sf.py"
    script.write_text(FAKE_STRAWBERRY_FIELDS.replace("VALUES", repr(shifted)))
    python = tmp_path / "python"  # called as ``python strawberryfields_step.py``: runs the fake instead
    python.write_text(f"#!/bin/sh\nexec {sys.executable} {script}\n")
    python.chmod(0o755)
    [row] = run_engines(["strawberryfields"], PHOTONS, [3], 0.0, 2, 1, 60, str(python))
    assert "values" not in row and row["samples_per_s"] == 5.0 and row["precision"] == "complex64"
    assert abs(row["max_abs_diff_vs_qvec"] - 1e-3) < 1e-6 and row["compile_s"] is None
