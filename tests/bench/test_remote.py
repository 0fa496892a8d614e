"""The remote benchmark harness on a tiny setting: results correct, nothing duplicated, JSON written.

Times are recorded, never asserted.
"""

import json

import torch
from click.testing import CliRunner

from qvec.bench.remote import REPORT_SEQUENTIAL_S, RemoteBenchmark, epoch_model, run_epoch
from qvec.cli.bench import command


def test_bench_remote_writes_a_table_and_json(tmp_path):
    output, plot = tmp_path / "remote.json", tmp_path / "remote.png"
    arguments = ["remote", "--latency", "0.02", "--circuits", "3", "--many", "12", "--repeats", "2",
                 "--epoch-samples", "6", "--epoch-batch", "4", "--output", str(output), "--plot", str(plot)]
    result = CliRunner().invoke(command, arguments)
    assert result.exit_code == 0, result.output
    record = json.loads(output.read_text())
    rows = record["results"]
    assert [r["strategy"] for r in rows] == ["sequential", "threads:10", "concurrent", "packed", "packed", "concurrent",
                                             "packed", "packed"]
    assert all(r["correct"] and r["duplicate_jobs"] == 0 for r in rows)
    assert [r["jobs"] for r in rows] == [3, 3, 3, 1, 1, 3, 2, 2]
    assert rows[-1]["target_s"] is not None and "IonQ strategies vs the emulator" in result.output
    epoch = record["epoch"]
    assert (epoch["samples"], epoch["batch"], epoch["steps"], epoch["jobs"]) == (6, 4, 2, 2)
    assert epoch["circuits_needed"] == 6 * (1 + 2 * 8) and epoch["gradient_max_abs_diff"] < 1e-12
    assert record["field_report"]["sequential_s"] == REPORT_SEQUENTIAL_S and "field report beside qvec" in result.output
    assert set(record["load_average_1_5_15_min"]) == {"start", "end"} and "cpu_model" in record["machine"]
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_an_epoch_trains_the_remote_model_as_local_autograd_would():
    """Three steps of SGD against the emulator land on the weights the same steps reach with local backprop."""
    bench, samples, batch = RemoteBenchmark(latency=0.0, capacity=4), 9, 3
    outcome = run_epoch(bench, samples, batch, seed=1)
    assert outcome.steps == 3 and outcome.jobs == 3
    generator = torch.Generator().manual_seed(1)
    x = torch.rand(samples, 4, generator=generator, dtype=torch.float64) * torch.pi
    y = torch.rand(samples, 4, generator=generator, dtype=torch.float64) * 2 - 1
    local = epoch_model(None)
    start = local.weights.detach().clone()
    optimizer = torch.optim.SGD(local.parameters(), lr=0.1)
    for first in range(0, samples, batch):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(local(x[first:first + batch]), y[first:first + batch]).backward()
        optimizer.step()
    assert not torch.allclose(local.weights, start)  # the steps moved the weights
    assert torch.allclose(torch.tensor(outcome.final_weights, dtype=torch.float64), local.weights, atol=1e-12)
    assert outcome.gradient_max_abs_diff < 1e-12
