"""The load benchmark on a small setting: invariants only (nothing lost, duplicated or out of order), never times."""

import os

from qvec.bench.load import LoadSetting, process_figures, run_load


def test_clients_in_processes_lose_nothing_and_create_no_job_twice(tmp_path):
    setting = LoadSetting(clients=2, circuits=12, qubits=3, strategy="concurrent", error_rate=0.1, rate_limit_rate=0.1,
                          latency=0.0, seed=3)
    record = run_load(setting, tmp_path)
    assert record["invariants"] == {"no_loss_and_in_order": True, "no_duplicate_job": True}
    assert record["circuits"] == 24 and record["jobs_created"] == 24  # one job per circuit, each created once
    assert record["retries"] > 0 and record["retries"] <= record["requests"]
    assert [c["client"] for c in record["clients"]] == [0, 1] and all(c["max_abs_error"] <= 1e-9 for c in record["clients"])
    for figures in (record["emulator_before"], record["emulator_after"]):
        assert figures["rss_bytes"] > 0 and figures["threads"] >= 1 and figures["fds"] >= 3


def test_process_figures_read_this_process(tmp_path):
    figures = process_figures(os.getpid())
    with open(tmp_path / "held", "w"):
        assert process_figures(os.getpid())["fds"] == figures["fds"] + 1
