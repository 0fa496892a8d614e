"""``qvec bench``: each command runs at tiny settings and writes JSON with the expected rows, the machine and the
load; peers that are not installed are skipped; bad options are refused. Times are recorded, never asserted."""

import json
import sys

from click.testing import CliRunner

from qvec.bench import engines, remote
from qvec.bench.remote import REPORT_SEQUENTIAL_S
from qvec.cli.bench import command
from qvec.emulator import Emulator, EmulatorConfig


def test_a_batch_list_that_is_not_positive_integers_is_refused():
    for bad in ("0,2", "1,x", ""):
        result = CliRunner().invoke(command, ["strategies", "--batches", bad])
        assert result.exit_code == 2 and "--batches" in result.output


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


def _refusing_from_call(monkeypatch, first_refused: int) -> None:
    """From the ``first_refused``-th emulator on, the bench's key is not accepted: its scenarios fail with a 401."""
    real, calls = remote.RemoteBenchmark.emulator, []

    def emulator(bench, fault_rate, seed):
        calls.append(seed)
        if len(calls) < first_refused:
            return real(bench, fault_rate, seed)
        return Emulator(EmulatorConfig(api_keys=("another-key",), latency=bench.latency, admin=True))

    monkeypatch.setattr(remote.RemoteBenchmark, "emulator", emulator)


def test_a_failing_scenario_is_an_error_row_and_the_rows_before_it_are_kept(monkeypatch, tmp_path):
    _refusing_from_call(monkeypatch, first_refused=3)
    output, plot = tmp_path / "remote.json", tmp_path / "remote.png"
    arguments = ["remote", "--latency", "0.02", "--circuits", "3", "--many", "6", "--repeats", "1",
                 "--skip-sequential", "--epoch-samples", "4", "--epoch-batch", "4", "--output", str(output),
                 "--plot", str(plot)]
    result = CliRunner().invoke(command, arguments)
    assert result.exit_code == 0, result.output
    rows = json.loads(output.read_text())["results"]
    assert [r["strategy"] for r in rows] == ["threads:10", "concurrent", "packed", "packed", "concurrent", "packed",
                                             "packed"]
    assert all(r["correct"] and r["seconds"] > 0 and r["error"] is None for r in rows[:2])
    assert all(r["error"].startswith("AuthenticationError") and r["seconds"] is None for r in rows[2:])
    assert json.loads(output.read_text())["epoch"]["error"].startswith("AuthenticationError")
    assert "failed: AuthenticationError" in result.output and plot.read_bytes()[:4] == b"\x89PNG"


def test_ctrl_c_in_bench_remote_writes_the_rows_measured_so_far(monkeypatch, tmp_path):
    real, calls = remote.run_scenario, []

    def run_scenario(scenario, bench):
        calls.append(scenario)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(scenario, bench)

    monkeypatch.setattr(remote, "run_scenario", run_scenario)
    output = tmp_path / "remote.json"
    arguments = ["remote", "--latency", "0.02", "--circuits", "3", "--many", "6", "--skip-sequential",
                 "--epoch-samples", "0", "--output", str(output)]
    result = CliRunner().invoke(command, arguments)
    assert result.exit_code == 130, result.output
    record = json.loads(output.read_text())
    assert record["interrupted"] is True and [r["strategy"] for r in record["results"]] == ["threads:10", "concurrent"]
    assert all(r["correct"] for r in record["results"])


def _pretend_missing(monkeypatch, *modules):
    real = engines.find_spec
    monkeypatch.setattr(engines, "find_spec", lambda name: None if name in modules else real(name))


def test_qubit_compare_skips_peers_that_are_not_installed(monkeypatch, tmp_path):
    _pretend_missing(monkeypatch, "pennylane", "tensorcircuit")
    output = tmp_path / "qubit.json"
    arguments = ["qubit", "--compare", "--qubits", "2", "--layers", "1", "--batches", "1,3", "--min-seconds", "0",
                 "--repeats", "1", "--output", str(output)]
    result = CliRunner().invoke(command, arguments)
    assert result.exit_code == 0, result.output
    record = json.loads(output.read_text())
    assert [(r["engine"], r["batch"]) for r in record["results"]] == [
        (e, b) for b in (1, 3) for e in ("qvec", "pennylane", "tensorcircuit")]
    qvec = [r for r in record["results"] if r["engine"] == "qvec"]
    assert all(r["samples_per_s"] > 0 and r["precision"] == "complex64" for r in qvec)
    assert all("not installed" in r["skipped"] for r in record["results"] if r["engine"] != "qvec")
    assert {"pennylane", "tensorcircuit-ng", "piquasso"} <= set(record["machine"]["versions"])
    assert record["command"].startswith("qvec bench qubit --qubits 2 --layers 1 --batches 1,3")


def test_cv_runs_strawberry_fields_only_from_the_interpreter_given(monkeypatch, tmp_path):
    _pretend_missing(monkeypatch, "piquasso")
    runner, output = CliRunner(), tmp_path / "cv.json"
    base = ["cv", "--compare", "--cutoff", "4", "--layers", "1", "--batches", "2", "--min-seconds", "0", "--repeats", "1",
            "--output", str(output)]
    result = runner.invoke(command, base)
    assert result.exit_code == 0, result.output
    rows = {r["engine"]: r for r in json.loads(output.read_text())["results"]}
    assert rows["qvec"]["samples_per_s"] > 0 and "--sf-python not given" in rows["strawberryfields"]["skipped"]
    # this environment has no Strawberry Fields: the separate interpreter's failure is reported, not hidden
    result = runner.invoke(command, [*base, "--sf-python", sys.executable])
    assert result.exit_code == 0, result.output
    rows = {r["engine"]: r for r in json.loads(output.read_text())["results"]}
    assert "strawberryfields" in rows["strawberryfields"]["error"] and "samples_per_s" not in rows["strawberryfields"]
