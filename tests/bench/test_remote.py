"""The remote benchmark harness on a tiny setting: results correct, nothing duplicated, JSON written.

Times are recorded, never asserted.
"""

import json

from click.testing import CliRunner

from qvec.cli.bench import command


def test_bench_remote_writes_a_table_and_json(tmp_path):
    output = tmp_path / "remote.json"
    arguments = ["remote", "--latency", "0.02", "--circuits", "3", "--many", "12", "--repeats", "2", "--output", str(output)]
    result = CliRunner().invoke(command, arguments)
    assert result.exit_code == 0, result.output
    record = json.loads(output.read_text())
    rows = record["results"]
    assert [r["strategy"] for r in rows] == ["sequential", "threads:10", "concurrent", "packed", "packed", "concurrent",
                                             "packed", "packed"]
    assert all(r["correct"] and r["duplicate_jobs"] == 0 for r in rows)
    assert [r["jobs"] for r in rows] == [3, 3, 3, 1, 1, 3, 2, 2]
    assert rows[-1]["target_s"] is not None and "IonQ strategies vs the emulator" in result.output
