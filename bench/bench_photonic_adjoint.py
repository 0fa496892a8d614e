"""The adjoint engine against the general engine on ``qvec bench cv``'s workload, alternating in one process.

``PhotonicLayer`` on the CV-GAN generator (2 modes, cutoff 8, 2 of Killoran's layers, complex64,
readouts <x> and <n> per mode; ``qvec.bench.workloads.gan_workload``), one step =
``layer(z).sum().backward()``, 1 torch thread. Each pair times the adjoint engine, then the general
engine (``adjoint.supports`` switched off) for ``--seconds`` each; alternating cancels the drift of a
shared machine's load, which separate processes minutes apart do not. Writes JSON with the load
average before and after and the commit.

    python bench/bench_photonic_adjoint.py --batches 1,8,32 --pairs 7   # bench/results/photonic_adjoint.json
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from qvec.bench.workloads import gan_workload

RESULTS = Path(__file__).parent / "results"


def samples_per_second(layer: torch.nn.Module, x: torch.Tensor, seconds: float) -> float:
    """Steady-state samples/s of forward + backward over at least ``seconds``."""
    def step() -> None:
        layer(x).sum().backward()

    for _ in range(3):
        step()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        count += 1
    return x.shape[0] * count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", default="1,8,32")
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--output", type=Path, default=RESULTS / "photonic_adjoint.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    adjoint = importlib.import_module("qvec.photonic.adjoint")
    supports = adjoint.supports
    workload = gan_workload()
    layer = workload.layer()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    report = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "commit": commit,
              "workload": workload.as_dict(), "torch_threads": 1, "load_before": os.getloadavg(), "results": {}}
    for batch in [int(b) for b in args.batches.split(",")]:
        x, fast, general = workload.inputs(batch), [], []
        for _ in range(args.pairs):
            adjoint.supports = supports
            fast.append(samples_per_second(layer, x, args.seconds))
            adjoint.supports = lambda circuit, device: False
            general.append(samples_per_second(layer, x, args.seconds))
        adjoint.supports = supports
        ratios = [a / b for a, b in zip(fast, general)]
        report["results"][str(batch)] = {"adjoint": fast, "general": general, "ratios": ratios}
        print(f"B = {batch}: adjoint {statistics.median(fast):,.0f} ({min(fast):,.0f}-{max(fast):,.0f}) samples/s, "
              f"general {statistics.median(general):,.0f} ({min(general):,.0f}-{max(general):,.0f}), "
              f"ratio {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})", flush=True)
    report["load_after"] = os.getloadavg()
    print(f"load average {report['load_before'][0]:.1f} -> {report['load_after'][0]:.1f}")
    args.output.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
