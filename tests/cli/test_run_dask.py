"""``qvec run --dask-scheduler`` (and ``QVEC_DASK_SCHEDULER``): the same JSON as a local run, and its errors."""

from __future__ import annotations

import json
import socket

import pytest

from qvec.cli import main

# Under pytest-xdist the module runs on one worker: one scheduler (tests/cli/conftest.py), not one per worker.
pytestmark = pytest.mark.xdist_group("cli-dask-run")

BELL = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\nh q[0];\ncx q[0],q[1];\n'
# A coherent state on mode 0 whose amplitude is a free parameter: --param alpha=... makes a batch.
COHERENT = "name coherent\nversion 1.0\ntarget fock (num_subsystems=2, cutoff_dim=6)\n\nDgate({alpha}, 0.0) | 0\n"

def run_json(capsys, *args: str) -> list[dict]:
    assert main(["run", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_run_on_dask_prints_what_a_local_run_prints(capsys, tmp_path, scheduler):
    bell, coherent = tmp_path / "bell.qasm", tmp_path / "coherent.xbb"
    bell.write_text(BELL)
    coherent.write_text(COHERENT)
    args = [str(bell), str(coherent), "--param", "alpha=0.1,0.2,0.3,0.4,0.5"]
    local = run_json(capsys, *args)
    on_dask = run_json(capsys, *args, "--dask-scheduler", scheduler.scheduler_address)
    assert len(on_dask) == 1 + 5 and "run_shard" in scheduler.scheduler.task_prefixes  # the workers ran it
    for got, expected in zip(on_dask, local):
        assert got.keys() == expected.keys()
        for key in ("probabilities", "fock_probabilities", "mean_photon"):
            if key in expected:
                assert got[key] == pytest.approx(expected[key], abs=1e-12)
    counts = run_json(capsys, str(bell), "--shots", "100", "--seed", "3",
                      "--dask-scheduler", scheduler.scheduler_address)[0]["counts"]
    assert set(counts) <= {"0", "3"} and sum(counts.values()) == 100


def test_the_scheduler_comes_from_the_environment_and_a_dead_one_is_a_one_line_error(capsys, tmp_path, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{s.getsockname()[1]}"
    bell = tmp_path / "bell.qasm"
    bell.write_text(BELL)
    monkeypatch.setenv("QVEC_DASK_SCHEDULER", address)
    monkeypatch.setattr("qvec.backends.dask.backend.DEFAULT_CONNECT_TIMEOUT_S", 1.0)
    assert main(["run", str(bell)]) == 1
    err = capsys.readouterr().err
    assert f"no Dask scheduler answered at '{address}'" in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if line.strip()]) == 1


def test_dask_and_ionq_do_not_combine(capsys, tmp_path):
    bell = tmp_path / "bell.qasm"
    bell.write_text(BELL)
    assert main(["run", str(bell), "--backend", "ionq", "--dask-scheduler", "tcp://127.0.0.1:8786"]) == 2
    assert "does not combine with --backend ionq" in capsys.readouterr().err
