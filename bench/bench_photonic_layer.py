"""Benchmark of ``qvec.nn.PhotonicLayer`` on the CV-GAN generator circuit of docs/photonic.md (issue 9).

The generator of bench_photonic.py (M modes, latent D(z_m) per row, 2 layers of [BS, R and S, BS,
D and K] with shared weights), cutoff c, outputs <x> and <n> of every mode, two ways, each
configuration in a fresh process, all in one run:

- ``layer``: ``PhotonicLayer`` with readouts ``QuadratureMean(m)`` and ``MeanPhoton(m)``, its
  weights one ``nn.Parameter``; one step = ``layer(z).sum().backward()``;
- ``engine``: the bare engine call, ``circuit.run`` and the same readouts (bench_photonic.py's step).

Both in complex64. Then, per batch, the two alternate in one process (``--pairs`` pairs), the fair
comparison on a loaded machine. Prints a table of samples/s and writes JSON to bench/results/photonic_layer.json,
with the load average: figures from a loaded machine are only compared within one run.

    python bench/bench_photonic_layer.py                       # M = 2, c = 8, B = 1 32 1024, 1 thread
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import torch

from qvec.bench.timing import machine_info, measure_step, run_isolated

RESULTS = Path(__file__).parent / "results"
PRECISION = "complex64"


def layer_step(n_modes: int, cutoff: int, batch: int) -> Callable[[], None]:
    """``PhotonicLayer`` on the generator: forward and backward of the summed <x> and <n> of every mode."""
    from bench_photonic import generator_circuit

    from qvec.nn import MeanPhoton, PhotonicLayer, QuadratureMean

    circuit = generator_circuit(n_modes)
    inputs = [f"z{m}" for m in range(n_modes)]
    weights = [p for p in circuit.parameters if p not in inputs]
    readouts = [QuadratureMean(m) for m in range(n_modes)] + [MeanPhoton(m) for m in range(n_modes)]
    layer = PhotonicLayer(circuit, inputs, weights, readouts, cutoff=cutoff, seed=0, dtype=torch.complex64)
    z = 0.3 * torch.randn(batch, n_modes, generator=torch.Generator().manual_seed(0))

    def step() -> None:
        layer(z).sum().backward()

    return step


def run_one(engine: str, n_modes: int, cutoff: int, batch: int, min_seconds: float, repeats: int, threads: int) -> dict:
    """One engine's samples/s, or with ``engine == "paired"`` the layer against the bare engine alternating."""
    import bench_photonic
    from bench_layer import paired_ratio

    from qvec.photonic import TruncationWarning

    warnings.simplefilter("ignore", TruncationWarning)  # small random weights; the bench measures speed
    torch.set_num_threads(threads)
    head = {"n_modes": n_modes, "cutoff": cutoff, "batch": batch, "threads": torch.get_num_threads()}
    if engine == "paired":
        layer, bare = layer_step(n_modes, cutoff, batch), bench_photonic.qvec_step(n_modes, cutoff, batch)
        return {**head, **paired_ratio(layer, bare, batch, min_seconds, repeats)}
    make = layer_step if engine == "layer" else bench_photonic.qvec_step
    return {"engine": engine, "dtype": PRECISION, **head, **measure_step(make(n_modes, cutoff, batch), batch, min_seconds, repeats)}


def print_table(rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="PhotonicLayer, GAN generator: samples/s (forward + backward)")
    for column in ("engine", "M", "c", "B", "samples/s", "range", "peak MiB", "layer/engine"):
        table.add_column(column, justify="right")
    engine_rate = {(r["n_modes"], r["cutoff"], r["batch"]): r.get("samples_per_s") for r in rows if r["engine"] == "engine"}
    for r in rows:
        key = (r["n_modes"], r["cutoff"], r["batch"])
        head = (r["engine"], *map(str, key))
        if "error" in r:
            table.add_row(*head, "-", r["error"][:48], "", "")
            continue
        ratio = f"{r['samples_per_s'] / engine_rate[key]:.2f}x" if r["engine"] == "layer" and engine_rate.get(key) else ""
        table.add_row(*head, f"{r['samples_per_s']:,.0f}", f"{r['min']:,.0f}-{r['max']:,.0f}", f"{r['peak_rss_mib']:.0f}", ratio)
    Console(width=140).print(table)


def main() -> None:
    from bench_layer import CONFIG_TIMEOUT_S, print_paired, source_info

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", type=int, default=2)
    parser.add_argument("--cutoff", type=int, default=8)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 32, 1024])
    parser.add_argument("--min-seconds", type=float, default=0.5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=5, help="layer/engine pairs measured alternating in one process")
    parser.add_argument("--threads", type=int, default=1, help="torch threads in each measuring process")
    parser.add_argument("--output", type=Path, default=RESULTS / "photonic_layer.json")
    parser.add_argument("--one", nargs=7, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        engine, modes, cutoff, batch, seconds, repeats, threads = args.one
        print(json.dumps(run_one(engine, int(modes), int(cutoff), int(batch), float(seconds), int(repeats), int(threads))))
        return
    load_before = os.getloadavg()
    rows = []
    for batch in args.batches:
        for engine in ("layer", "engine"):
            row = {"engine": engine, "dtype": PRECISION, "n_modes": args.modes, "cutoff": args.cutoff, "batch": batch}
            settings = [engine, args.modes, args.cutoff, batch, args.min_seconds, args.repeats, args.threads]
            rows.append(run_isolated(__file__, row, [str(s) for s in settings], CONFIG_TIMEOUT_S))
            print(json.dumps(rows[-1]), file=sys.stderr)
    pairs = []
    for batch in args.batches:
        settings = ["paired", args.modes, args.cutoff, batch, args.min_seconds, args.pairs, args.threads]
        pairs.append(run_isolated(__file__, {"batch": batch}, [str(s) for s in settings], CONFIG_TIMEOUT_S))
        print(json.dumps(pairs[-1]), file=sys.stderr)
    print_table(rows)
    print_paired(pairs, "PhotonicLayer / bare engine, alternating in one process")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    record = {"benchmark": "PhotonicLayer, GAN generator circuit", "command": " ".join(["python", *sys.argv]),
              "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine_info(),
              "source": source_info(), "torch_threads_per_run": args.threads,
              "load_average_1_5_15_min": {"before": load_before, "after": os.getloadavg()},
              "precision": {"layer": PRECISION, "engine": PRECISION}, "results": rows,
              "layer_over_engine_paired": pairs}
    args.output.write_text(json.dumps(record, indent=2))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
