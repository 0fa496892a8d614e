"""A/B of a layer's training step: an older commit against the working tree, in alternating fresh processes.

This machine's speed drifts by tens of percent within minutes, so two figures taken minutes apart do not
compare. Here each round runs the old tree, then the new one, each in a fresh process, and measures process
CPU time per ``layer(x).sum().backward()`` step (1 torch thread); the table gives each side's median over
the rounds and their ratio.

    python bench/bench_layer_ab.py --rev e24f1df --kind qubit --batches 1,16 --rounds 5
    python bench/bench_layer_ab.py --rev 579a2d5 --kind photonic --batches 1,8

The old commit is checked out in a temporary git worktree, removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# One measurement, run by each side's interpreter with its own tree on PYTHONPATH.
STEP = """
import sys, time, torch
torch.set_num_threads(1)
from qvec.bench.workloads import gan_workload, qubit_workload
kind, batch, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
workload = qubit_workload() if kind == "qubit" else gan_workload()
layer, x = workload.layer(), workload.inputs(batch)
for _ in range(10):
    layer(x).sum().backward()
windows = []
for _ in range(3):
    count, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        layer(x).sum().backward()
        count += 1
    windows.append((time.process_time() - start) / count * 1e6)
print(sorted(windows)[1])
"""


def _step_us(source: Path, kind: str, batch: int, seconds: float) -> float:
    """Microseconds of process CPU per step, the middle of three windows, in a fresh process on ``source``."""
    env = {**os.environ, "PYTHONPATH": str(source / "src")}
    done = subprocess.run([sys.executable, "-c", STEP, kind, str(batch), str(seconds)], env=env, check=True,
                          capture_output=True, text=True)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", required=True, help="the older commit (A); B is the working tree")
    parser.add_argument("--kind", choices=("qubit", "photonic"), default="qubit")
    parser.add_argument("--batches", default="1,16")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.4, help="length of one measuring window")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "layer_ab.json")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        old = Path(folder) / "old"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), args.rev], check=True,
                       capture_output=True)
        try:
            for batch in (int(b) for b in args.batches.split(",")):
                a, b = [], []
                for _ in range(args.rounds):
                    a.append(_step_us(old, args.kind, batch, args.seconds))
                    b.append(_step_us(ROOT, args.kind, batch, args.seconds))
                row = {"batch": batch, "old_us": statistics.median(a), "new_us": statistics.median(b),
                       "old_range": [min(a), max(a)], "new_range": [min(b), max(b)]}
                row["speed_up"] = row["old_us"] / row["new_us"]
                rows.append(row)
                print(f"B = {batch:5d}: {args.rev} {row['old_us']:9.0f} us   working tree {row['new_us']:9.0f} us   "
                      f"{row['speed_up']:.2f}x")
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], capture_output=True)
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    record = {"command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]), "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
              "old": args.rev, "new": f"working tree at {head.stdout.strip()}", "kind": args.kind,
              "rounds": args.rounds, "load_average": os.getloadavg(), "rows": rows}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(args.output.read_text()) if args.output.exists() else []
    args.output.write_text(json.dumps([*results, record], indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
