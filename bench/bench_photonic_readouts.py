"""The second round of small-batch photonic changes, on and off, alternating in one process.

``PhotonicLayer`` on ``qvec bench cv``'s workload (CV-GAN generator: 2 modes, cutoff 8, 2 of Killoran's
layers, complex64, readouts <x> and <n> per mode; ``qvec.bench.workloads.gan_workload``), one step =
``layer(z).sum().backward()``, 1 torch thread. "new": the readouts as one node (``photonic.expectations``)
and the size check without /proc/meminfo (``memory.fits_budget``); "old": each readout's own autograd
operations and ``check_fits`` reading /proc/meminfo (the truncation check's graph-free norm is in both).
Alternating pairs cancel the drift of a shared machine's load. Writes JSON with the load and the commit.

    python bench/bench_photonic_readouts.py --batches 1,8,32 --pairs 7   # bench/results/photonic_readouts.json
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import torch

from qvec.bench.workloads import gan_workload

sys.path.insert(0, str(Path(__file__).parent))
from bench_photonic_adjoint import samples_per_second  # noqa: E402

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", default="1,8,32")
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--output", type=Path, default=RESULTS / "photonic_readouts.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    simulate = importlib.import_module("qvec.photonic.simulate")
    workload = gan_workload()
    layer = workload.layer()
    forms, fits = layer._forms, simulate.fits_budget
    settings = {"new": (forms, fits), "old": (None, lambda needed, device: False)}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    report = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "commit": commit,
              "workload": workload.as_dict(), "torch_threads": 1, "load_before": os.getloadavg(), "results": {}}
    for batch in [int(b) for b in args.batches.split(",")]:
        x, rates = workload.inputs(batch), {"new": [], "old": []}
        for _ in range(args.pairs):
            for name, (layer._forms, simulate.fits_budget) in settings.items():
                rates[name].append(samples_per_second(layer, x, args.seconds))
        layer._forms, simulate.fits_budget = forms, fits
        new, old = rates["new"], rates["old"]
        ratios = [a / b for a, b in zip(new, old)]
        report["results"][str(batch)] = {**rates, "ratios": ratios}
        print(f"B = {batch}: new {statistics.median(new):,.0f} ({min(new):,.0f}-{max(new):,.0f}) samples/s, "
              f"old {statistics.median(old):,.0f} ({min(old):,.0f}-{max(old):,.0f}), "
              f"ratio {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})", flush=True)
    report["load_after"] = os.getloadavg()
    print(f"load average {report['load_before'][0]:.1f} -> {report['load_after'][0]:.1f}")
    args.output.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
