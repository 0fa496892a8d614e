"""qvec.bench.workers: interleaved rounds, driven with fake workers that speak the line protocol.

Outcomes only: no durations are asserted (the fake workers' figures are made up).
"""

import os
import sys

import pytest

from qvec.bench.workers import Worker, run_interleaved

# A fake worker: logs its start, readiness and each window to a shared file; ``behaviour`` makes it fail.
FAKE_WORKER = """\
import json, sys, threading
name, log, behaviour = sys.argv[1:4]

def note(event):
    with open(log, "a") as file:
        file.write(f"{name} {event}\\n")

note("start")
job = json.loads(sys.stdin.readline())
if behaviour == "setup-crash":
    sys.exit(f"{name}: boom at setup")
note("ready")
print(json.dumps({"precision": job["precision"], "first_step_s": 0.5}), flush=True)
for window, command in enumerate(sys.stdin):
    if command.strip() == "finish":
        print(json.dumps({"peak_rss_mib": 1.5}), flush=True)
        break
    note(window)
    if behaviour == "crash" and window == 1:
        sys.exit(f"{name}: boom in window 1")
    if behaviour == "garbage":
        print("not json", flush=True)
    if behaviour == "hang":
        threading.Event().wait()
    print(json.dumps({"samples_per_s": 10.0 + window}), flush=True)
"""


@pytest.fixture
def fake(tmp_path):
    """``fake(name, behaviour)``: the command of a fake worker; ``fake.log()``: the events logged, in order."""
    script, log = tmp_path / "fake_worker.py", tmp_path / "events.log"
    script.write_text(FAKE_WORKER)

    def command(name: str, behaviour: str = "good") -> list[str]:
        return [sys.executable, str(script), name, str(log), behaviour]

    command.log = lambda: log.read_text().split("\n")[:-1] if log.exists() else []
    return command


def _worker(command: list[str], name: str, timeout_s: float = 60, kind: type[Worker] = Worker) -> Worker:
    return kind({"engine": name, "batch": 1}, command, {"precision": "fake"}, timeout_s)


def _gone(worker: Worker) -> bool:
    """The worker's process has exited and been reaped."""
    if worker.process.poll() is None:
        return False
    try:
        os.kill(worker.process.pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_workers_start_one_at_a_time_then_measure_in_interleaved_rounds(fake):
    names = ("qvec", "pennylane", "tensorcircuit")
    workers = [_worker(fake(n), n) for n in names]
    rows = run_interleaved(workers, repeats=3)
    assert fake.log() == [f"{n} {e}" for n in names for e in ("start", "ready")] + [
        f"{n} {r}" for r in range(3) for n in names]
    assert rows[0] == {"engine": "qvec", "batch": 1, "precision": "fake", "first_step_s": 0.5, "peak_rss_mib": 1.5,
                       "samples_per_s": 11.0, "min": 10.0, "max": 12.0, "protocol": "interleaved"}
    assert [r["engine"] for r in rows] == list(names) and all(_gone(w) for w in workers)


def test_failing_workers_give_error_rows_and_the_others_go_on(fake, tmp_path):
    behaviours = {"qvec": "good", "early": "setup-crash", "midway": "crash", "garbled": "garbage", "peer": "good"}
    workers = [_worker(fake(n, b), n) for n, b in behaviours.items()]
    workers.append(_worker([str(tmp_path / "no-such-python")], "missing"))
    rows = {r["engine"]: r for r in run_interleaved(workers, repeats=3)}
    assert rows["early"]["error"] == "early: boom at setup"
    assert rows["midway"]["error"] == "midway: boom in window 1"
    assert rows["garbled"]["error"] == "unexpected output from garbled: 'not json'"
    assert rows["missing"]["error"].startswith("cannot run ") and "No such file" in rows["missing"]["error"]
    assert all("samples_per_s" not in rows[n] for n in ("early", "midway", "garbled", "missing"))
    assert rows["qvec"]["samples_per_s"] == rows["peer"]["samples_per_s"] == 11.0
    assert [e for e in fake.log() if e.startswith(("qvec", "peer"))][-2:] == ["qvec 2", "peer 2"]
    assert workers[-1].process is None and all(_gone(w) for w in workers[:-1])


def test_a_window_that_never_ends_is_killed_as_timed_out(fake):
    workers = [_worker(fake("qvec"), "qvec"), _worker(fake("stuck", "hang"), "stuck", timeout_s=2)]
    rows = run_interleaved(workers, repeats=2)
    assert rows[1]["error"] == "timed out after 2 s" and "samples_per_s" not in rows[1]
    assert rows[0]["samples_per_s"] > 0 and all(_gone(w) for w in workers)


def test_every_worker_is_killed_when_the_rounds_are_interrupted(fake):
    class Interrupted(Worker):
        def window(self) -> None:
            raise KeyboardInterrupt

    workers = [_worker(fake("qvec"), "qvec"), _worker(fake("peer"), "peer", kind=Interrupted)]
    with pytest.raises(KeyboardInterrupt):
        run_interleaved(workers, repeats=2)
    assert all(_gone(w) for w in workers)
