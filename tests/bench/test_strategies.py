"""qvec.bench.strategies: every strategy computes what the vectorized batch computes; the claims are judged right.

Times are recorded, never asserted.
"""

import json

import pytest
import torch
from click.testing import CliRunner

from qvec.bench.strategies import StrategyResult, run_strategy, verdicts
from qvec.bench.workloads import gan_workload, qubit_workload
from qvec.cli.bench import command

WORKLOADS = [qubit_workload(3, 2), gan_workload(2, 6, 1)]


@pytest.mark.parametrize("workload", WORKLOADS, ids=lambda w: w.kind)
@pytest.mark.parametrize("strategy", ["sequential", "threads:2", "threads:3", "processes:2"])
def test_each_strategy_gives_the_batch_result(workload, strategy):
    layer, x = workload.layer(), workload.inputs(5)
    expected = torch.stack([layer(row) for row in x]).detach()  # one row at a time, outside any strategy
    batch = run_strategy("batch", layer, workload, x)
    assert batch.shape == expected.shape and torch.allclose(batch, expected, atol=1e-5)
    assert torch.allclose(run_strategy(strategy, layer, workload, x), batch, atol=1e-5)


def test_a_strategy_name_that_means_nothing_is_refused():
    workload = WORKLOADS[0]
    with pytest.raises(Exception, match="strategy must be"):
        run_strategy("threads:0", workload.layer(), workload, workload.inputs(2))


def _result(strategy, batch, rate):
    return StrategyResult("photonic", strategy, batch, rate, rate, rate, 0.0)


def test_verdicts_confirm_and_refute_from_the_figures():
    as_reported = [_result("sequential", 64, 100), _result("threads:2", 64, 105), _result("processes:2", 64, 100 / 6.6),
                   _result("batch", 64, 6000)]
    assert [v["verdict"] for v in verdicts(as_reported)] == ["confirmed"] * 3
    opposite = [_result("sequential", 64, 100), _result("threads:2", 64, 190), _result("processes:2", 64, 150),
                _result("batch", 64, 2000)]
    assert [v["verdict"] for v in verdicts(opposite)] == ["refuted"] * 3
    assert "6.6x" in verdicts(opposite)[1]["claim"] and "1.500x" in verdicts(opposite)[1]["ours"]


def test_the_command_writes_every_row_and_the_verdicts(tmp_path):
    output, plot = tmp_path / "strategies.json", tmp_path / "strategies.png"
    arguments = ["strategies", "--batches", "1,2", "--qubits", "2", "--qubit-layers", "1", "--cutoff", "6",
                 "--cv-layers", "1", "--thread-pools", "2", "--min-seconds", "0", "--repeats", "1",
                 "--output", str(output), "--plot", str(plot)]
    result = CliRunner().invoke(command, arguments)
    assert result.exit_code == 0, result.output
    record = json.loads(output.read_text())
    rows = [(r["workload"], r["batch"], r["strategy"]) for r in record["results"]]
    assert rows == [(w, b, s) for w in ("photonic", "qubit") for b in (1, 2)
                    for s in ("sequential", "threads:2", "processes:2", "batch")]
    assert all(r["samples_per_s"] > 0 and r["max_abs_diff_vs_batch"] < 1e-5 for r in record["results"])
    assert len(record["verdicts"]) == 6 and {"cpu_model", "cpus", "torch", "threads"} <= set(record["machine"])
    assert set(record["load_average_1_5_15_min"]) == {"start", "end"}
    assert record["command"].startswith("qvec bench strategies --workload both --batches 1,2 ")
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "CONFIRMED" in result.output or "REFUTED" in result.output
