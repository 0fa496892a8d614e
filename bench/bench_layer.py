"""Benchmark of ``qvec.nn.QuantumLayer`` on the standard circuit of docs/performance.md (issue 9).

The standard circuit (n qubits, RY(x_q) per row, L layers of RX RY RZ with shared weights and a CNOT
ring, outputs <Z_q>) three ways, each configuration in a fresh process, all in one run:

- ``layer``: ``QuantumLayer`` (diff_method "best", which is backprop on the local simulator), its
  96 weights one ``nn.Parameter``; one step = ``layer(x).sum().backward()``;
- ``engine``: the bare engine call the layer wraps, ``circuit.expval`` with the same bindings
  (bench_qubit.py's step);
- ``pennylane``: PennyLane default.qubit (torch interface, backprop, parameter broadcasting), the
  same circuit (bench_qubit.py's step; needs the ``bench`` extra).

Then, per batch, the layer and the bare engine alternate in one process (``--pairs`` pairs): on a
loaded machine that is the fair layer-against-engine comparison, as load drifts between processes.

qvec runs in complex64 (angles float32), PennyLane's default.qubit in complex128. Prints a table of
samples/s with the layer's ratio to each and writes JSON to bench/results/layer.json, with the load
average: figures from a loaded machine are only compared within one run.

    python bench/bench_layer.py                                 # n = 8, L = 4, B = 1 16 256 4096, 2 threads
    python bench/bench_layer.py --batches 1 256 --no-pennylane
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import torch

from qvec.bench.timing import machine_info, measure_step, run_isolated

RESULTS = Path(__file__).parent / "results"
PRECISION = {"layer": "complex64", "engine": "complex64", "pennylane": "complex128"}
TARGET_RATIO = 50  # layer / PennyLane default.qubit at B = 1 and 256 (issue 9)
TARGET_BATCHES = (1, 256)
CONFIG_TIMEOUT_S = 600


def layer_step(n_qubits: int, layers: int, batch: int) -> Callable[[], None]:
    """``QuantumLayer`` on the standard circuit, complex64: forward and backward of the summed outputs."""
    from qvec.bench.circuits import standard_qubit_circuit
    from qvec.nn import QuantumLayer

    circuit = standard_qubit_circuit(n_qubits, layers)
    inputs = [f"x{q}" for q in range(n_qubits)]
    weights = [p for p in circuit.parameters if p.startswith("w")]
    layer = QuantumLayer(circuit, inputs, weights, [f"Z{q}" for q in range(n_qubits)], seed=0, dtype=torch.complex64)
    x = torch.rand(batch, n_qubits, generator=torch.Generator().manual_seed(0)) * 3.14

    def step() -> None:
        layer(x).sum().backward()

    return step


def make_step(engine: str, n_qubits: int, layers: int, batch: int) -> Callable[[], None]:
    import bench_qubit  # this directory's script: the bare engine's and PennyLane's steps on the same circuit

    if engine == "layer":
        return layer_step(n_qubits, layers, batch)
    if engine == "engine":
        return bench_qubit.qvec_step(n_qubits, layers, batch, PRECISION["engine"])
    return bench_qubit.pennylane_step(n_qubits, layers, batch, PRECISION["pennylane"])


def source_info() -> dict:
    """Which qvec was measured: where it was imported from, this repository's HEAD, and the files under src/
    with uncommitted changes when qvec came from this working tree (others may be editing it)."""
    import qvec

    package = Path(qvec.__file__).resolve().parent
    repository = Path(__file__).resolve().parent.parent

    def git(*arguments: str) -> str:
        return subprocess.run(["git", "-C", str(repository), *arguments], capture_output=True, text=True).stdout.strip()

    info = {"qvec_imported_from": str(package), "repository_head": git("rev-parse", "HEAD")}
    if package.is_relative_to(repository):
        info["uncommitted_src_files"] = git("status", "--porcelain", "--", "src").splitlines()
    return info


def run_one(engine: str, n_qubits: int, layers: int, batch: int, min_seconds: float, repeats: int, threads: int) -> dict:
    torch.set_num_threads(threads)
    result = measure_step(make_step(engine, n_qubits, layers, batch), batch, min_seconds, repeats)
    return {"engine": engine, "dtype": PRECISION[engine], "n_qubits": n_qubits, "layers": layers, "batch": batch,
            "threads": torch.get_num_threads(), **result}


def run_paired(n_qubits: int, layers: int, batch: int, min_seconds: float, repeats: int, threads: int) -> dict:
    """The layer against the bare engine in ONE process, alternating, ``repeats`` pairs: load that drifts between
    separate processes cancels in each pair's ratio."""
    torch.set_num_threads(threads)
    layer, engine = make_step("layer", n_qubits, layers, batch), make_step("engine", n_qubits, layers, batch)
    return {"n_qubits": n_qubits, "layers": layers, "batch": batch, "threads": torch.get_num_threads(),
            **paired_ratio(layer, engine, batch, min_seconds, repeats)}


def paired_ratio(layer: Callable[[], None], engine: Callable[[], None], batch: int, min_seconds: float,
                 repeats: int) -> dict:
    """Median, min and max over ``repeats`` alternating pairs of layer samples/s over engine samples/s."""
    pairs = sorted(measure_step(layer, batch, min_seconds, 1)["samples_per_s"]
                   / measure_step(engine, batch, min_seconds, 1)["samples_per_s"] for _ in range(repeats))
    return {"layer_over_engine": pairs[len(pairs) // 2], "min": pairs[0], "max": pairs[-1], "pairs": repeats}


def ratios(rows: list[dict]) -> dict[int, dict[str, float]]:
    """Per batch: the layer's samples/s over the engine's and over PennyLane's (where both were measured)."""
    rate = {(r["engine"], r["batch"]): r.get("samples_per_s") for r in rows}
    out: dict[int, dict[str, float]] = {}
    for (engine, batch), layer in rate.items():
        if engine != "layer" or not layer:
            continue
        out[batch] = {f"layer_over_{other}": layer / rate[(other, batch)]
                      for other in ("engine", "pennylane") if rate.get((other, batch))}
    return out


def print_paired(pairs: list[dict], title: str = "QuantumLayer / bare engine, alternating in one process (target >= 1)") -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in ("B", "pairs", "layer/engine (median)", "range"):
        table.add_column(column, justify="right")
    for p in pairs:
        if "error" in p:
            table.add_row(str(p["batch"]), "", "-", p["error"][:48])
            continue
        table.add_row(str(p["batch"]), str(p["pairs"]), f"{p['layer_over_engine']:.2f}x", f"{p['min']:.2f}-{p['max']:.2f}")
    Console(width=140).print(table)


def print_table(rows: list[dict], by_batch: dict[int, dict[str, float]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="QuantumLayer on the standard circuit: samples/s (forward + backward)",
                  caption=f"target: layer / PennyLane >= {TARGET_RATIO}x at B = 1 and 256; layer / engine >= 1")
    for column in ("engine", "dtype", "B", "samples/s", "range", "peak MiB", "layer/engine", "layer/PL"):
        table.add_column(column, justify="right")
    for r in rows:
        head = (r["engine"], r["dtype"], str(r["batch"]))
        if "error" in r:
            table.add_row(*head, "-", r["error"][:48], "", "", "")
            continue
        ratio = by_batch.get(r["batch"], {}) if r["engine"] == "layer" else {}
        table.add_row(*head, f"{r['samples_per_s']:,.0f}", f"{r['min']:,.0f}-{r['max']:,.0f}", f"{r['peak_rss_mib']:.0f}",
                      f"{ratio['layer_over_engine']:.2f}x" if "layer_over_engine" in ratio else "",
                      f"{ratio['layer_over_pennylane']:.1f}x" if "layer_over_pennylane" in ratio else "")
    Console(width=140).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qubits", type=int, default=8)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16, 256, 4096])
    parser.add_argument("--min-seconds", type=float, default=0.5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=5, help="layer/engine pairs measured alternating in one process")
    parser.add_argument("--threads", type=int, default=2, help="torch threads in each measuring process")
    parser.add_argument("--no-pennylane", action="store_true", help="skip PennyLane default.qubit")
    parser.add_argument("--output", type=Path, default=RESULTS / "layer.json")
    parser.add_argument("--one", nargs=7, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        engine, *settings = args.one
        n, layers, batch, seconds, repeats, threads = int(settings[0]), int(settings[1]), int(settings[2]), \
            float(settings[3]), int(settings[4]), int(settings[5])
        if engine == "paired":
            print(json.dumps(run_paired(n, layers, batch, seconds, repeats, threads)))
        else:
            print(json.dumps(run_one(engine, n, layers, batch, seconds, repeats, threads)))
        return
    engines = ["layer", "engine"] + ([] if args.no_pennylane else ["pennylane"])
    load_before = os.getloadavg()
    rows = []
    for batch in args.batches:
        for engine in engines:
            row = {"engine": engine, "dtype": PRECISION[engine], "n_qubits": args.qubits, "layers": args.layers, "batch": batch}
            settings = [engine, args.qubits, args.layers, batch, args.min_seconds, args.repeats, args.threads]
            rows.append(run_isolated(__file__, row, [str(s) for s in settings], CONFIG_TIMEOUT_S))
            print(json.dumps(rows[-1]), file=sys.stderr)
    pairs = []
    for batch in args.batches:
        settings = ["paired", args.qubits, args.layers, batch, args.min_seconds, args.pairs, args.threads]
        pairs.append(run_isolated(__file__, {"batch": batch}, [str(s) for s in settings], CONFIG_TIMEOUT_S))
        print(json.dumps(pairs[-1]), file=sys.stderr)
    by_batch = ratios(rows)
    print_table(rows, by_batch)
    print_paired(pairs)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    record = {"benchmark": "QuantumLayer, standard circuit", "command": " ".join(["python", *sys.argv]),
              "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine_info(),
              "source": source_info(), "torch_threads_per_run": args.threads,
              # other processes' load while measuring: figures from a loaded machine are compared within one run only
              "load_average_1_5_15_min": {"before": load_before, "after": os.getloadavg()},
              "precision": PRECISION, "target": {"layer_over_pennylane": TARGET_RATIO, "batches": list(TARGET_BATCHES)},
              "ratios": {str(b): v for b, v in by_batch.items()}, "results": rows,
              "layer_over_engine_paired": pairs}
    args.output.write_text(json.dumps(record, indent=2))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
