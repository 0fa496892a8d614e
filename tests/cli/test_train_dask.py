"""``qvec train classify|qgan --dask-scheduler``: the workers run the circuits, and the run equals a local one."""

from __future__ import annotations

import json

import pytest

from qvec.cli import main

from .test_train_classify import SMALL as CLASSIFY
from .test_train_qgan import SMALL as QGAN

# Under pytest-xdist the module runs on one worker: one scheduler (tests/cli/conftest.py), not one per worker.
pytestmark = pytest.mark.xdist_group("cli-dask-train")


def shards_run(cluster) -> int:
    """Shard tasks the cluster's scheduler has seen so far."""
    prefix = cluster.scheduler.task_prefixes.get("run_shard")
    return 0 if prefix is None else sum(prefix.state_counts.values())


def metrics(folder) -> list[dict]:
    return json.loads((folder / "metrics.json").read_text())


def assert_same_runs(local: list[dict], on_dask: list[dict]) -> None:
    assert len(local) == len(on_dask)
    for expected, got in zip(local, on_dask):
        for key, value in expected.items():
            if isinstance(value, float) and "seconds" not in key and "time" not in key:
                assert got[key] == pytest.approx(value, rel=1e-4, abs=1e-6), key


def test_the_classifier_trains_on_dask_as_it_does_locally(tmp_path, scheduler):
    args = ["train", "classify", *CLASSIFY, "--epochs", "1"]
    assert main([*args, "--out", str(tmp_path / "local")]) == 0
    before = shards_run(scheduler)
    assert main([*args, "--out", str(tmp_path / "dask"), "--dask-scheduler", scheduler.scheduler_address]) == 0
    assert shards_run(scheduler) > before  # the workers ran the quantum layer
    assert_same_runs(metrics(tmp_path / "local"), metrics(tmp_path / "dask"))


def test_the_qgan_trains_on_dask_as_it_does_locally(tmp_path, scheduler):
    args = ["train", "qgan", *QGAN, "--epochs", "1"]
    assert main([*args, "--out", str(tmp_path / "local")]) == 0
    before = shards_run(scheduler)
    assert main([*args, "--out", str(tmp_path / "dask"), "--dask-scheduler", scheduler.scheduler_address]) == 0
    assert shards_run(scheduler) > before  # the workers ran the generator's circuit
    assert_same_runs(metrics(tmp_path / "local"), metrics(tmp_path / "dask"))


def test_dask_and_ionq_do_not_combine(tmp_path, capsys):
    code = main(["train", "classify", *CLASSIFY, "--no-mock", "--dask-scheduler", "tcp://127.0.0.1:1",
                 "--out", str(tmp_path / "run")])
    assert code == 2 and "does not combine" in capsys.readouterr().err
