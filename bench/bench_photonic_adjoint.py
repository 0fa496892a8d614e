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
from typing import Callable

import torch

from qvec.bench.workloads import Workload, gan_workload

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


def alternate(workload: Workload, layer: torch.nn.Module, batches: list[int], pairs: int, seconds: float,
              settings: dict[str, Callable[[], None]], output: Path) -> None:
    """Time ``layer`` under each setting in turn (``settings``: name -> what switches it on), ``pairs`` times per
    batch size; print each batch's medians and the first setting's ratio to the second, and write the JSON."""
    first, second = list(settings)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    report = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "commit": commit,
              "workload": workload.as_dict(), "torch_threads": 1, "load_before": os.getloadavg(), "results": {}}
    for batch in batches:
        x, rates = workload.inputs(batch), {name: [] for name in settings}
        for _ in range(pairs):
            for name, switch_on in settings.items():
                switch_on()
                rates[name].append(samples_per_second(layer, x, seconds))
        ratios = [a / b for a, b in zip(rates[first], rates[second])]
        report["results"][str(batch)] = {**rates, "ratios": ratios}
        print(f"B = {batch}: " + ", ".join(f"{name} {statistics.median(r):,.0f} ({min(r):,.0f}-{max(r):,.0f})"
                                           for name, r in rates.items())
              + f" samples/s, ratio {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})", flush=True)
    report["load_after"] = os.getloadavg()
    print(f"load average {report['load_before'][0]:.1f} -> {report['load_after'][0]:.1f}")
    output.write_text(json.dumps(report, indent=2) + "\n")


def arguments(description: str, output: Path) -> argparse.Namespace:
    """The options both alternating scripts take."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--batches", default="1,8,32")
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--output", type=Path, default=output)
    return parser.parse_args()


def main() -> None:
    args = arguments(__doc__.splitlines()[0], RESULTS / "photonic_adjoint.json")
    torch.set_num_threads(1)
    adjoint = importlib.import_module("qvec.photonic.adjoint")
    supports = adjoint.supports

    def general() -> None:
        adjoint.supports = lambda circuit, device: False

    try:
        workload = gan_workload()
        alternate(workload, workload.layer(), [int(b) for b in args.batches.split(",")], args.pairs, args.seconds,
                  {"adjoint": lambda: setattr(adjoint, "supports", supports), "general": general}, args.output)
    finally:
        adjoint.supports = supports

if __name__ == "__main__":
    main()
