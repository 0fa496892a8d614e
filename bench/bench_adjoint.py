"""Adjoint differentiation against backprop through the engine: samples/s and peak memory, forward + backward.

The standard circuit of docs/performance.md (RY(x_q) per row, L layers of RX, RY, RZ with weights shared by
the batch, each closed by a CNOT ring), outputs <Z_q>; one step = forward and backward of their sum with
respect to the weights. Each configuration runs in its own process, so its peak memory is that process's
maximum resident set growth (torch's allocations included). With ``--paired R`` each configuration also
runs R rounds of one backprop step and one adjoint step alternately in one process: on a machine shared
with other work, the per-round ratio is steadier than rates measured minutes apart. Prints a table and
writes JSON.

    python bench/bench_adjoint.py                                   # the default grid
    python bench/bench_adjoint.py --config 16 8 64 --config 20 8 8 --repeats 2 --paired 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from qvec.bench.timing import machine_info, measure_step, run_isolated

RESULTS = Path(__file__).parent / "results"
DTYPES = {"complex64": (torch.complex64, torch.float32), "complex128": (torch.complex128, torch.float64)}
METHODS = ("backprop", "adjoint")
# (n qubits, layers, batch): where the crossover lies (small n, few layers, B = 1) and the sizes.
DEFAULT_CONFIGS = [(8, 2, 1), (8, 8, 64), (12, 2, 64), (12, 8, 1), (12, 8, 64), (16, 2, 64), (16, 8, 1), (16, 8, 64),
                   (20, 8, 8)]
CONFIG_TIMEOUT_S = 1800


def make_step(method: str, n_qubits: int, layers: int, batch: int, dtype: str):
    from qvec import sim
    from qvec.bench.circuits import standard_qubit_circuit
    from qvec.grad.adjoint import adjoint_expval

    complex_dtype, real = DTYPES[dtype]
    circuit = standard_qubit_circuit(n_qubits, layers)
    names = [p for p in circuit.parameters if p.startswith("w")]
    weights = torch.randn(len(names), dtype=real, requires_grad=True)
    inputs = {f"x{q}": torch.rand(batch, dtype=real) * 3.14 for q in range(n_qubits)}
    observables = [f"Z{q}" for q in range(n_qubits)]
    expval = sim.expval if method == "backprop" else adjoint_expval

    def step() -> None:
        values = expval(circuit, observables, {**inputs, **dict(zip(names, weights.unbind()))}, dtype=complex_dtype)
        values.sum().backward()

    return step


def run_one(method: str, dtype: str, n_qubits: int, layers: int, batch: int, min_seconds: float, repeats: int) -> dict:
    torch.set_num_threads(int(os.environ.get("QVEC_BENCH_THREADS", torch.get_num_threads())))
    result = measure_step(make_step(method, n_qubits, layers, batch, dtype), batch, min_seconds, repeats)
    return {"method": method, "dtype": dtype, "n_qubits": n_qubits, "layers": layers, "batch": batch, **result}


def run_paired(dtype: str, n_qubits: int, layers: int, batch: int, rounds: int) -> dict:
    """Seconds per step of each method, alternating after one warm-up step each, and the per-round speed-up."""
    torch.set_num_threads(int(os.environ.get("QVEC_BENCH_THREADS", torch.get_num_threads())))
    steps = {method: make_step(method, n_qubits, layers, batch, dtype) for method in METHODS}
    seconds: dict[str, list[float]] = {method: [] for method in METHODS}
    for step in steps.values():
        step()
    for _ in range(rounds):
        for method, step in steps.items():
            start = time.perf_counter()
            step()
            seconds[method].append(time.perf_counter() - start)
    ratios = [b / a for b, a in zip(seconds["backprop"], seconds["adjoint"])]
    return {"dtype": dtype, "n_qubits": n_qubits, "layers": layers, "batch": batch, "step_seconds": seconds,
            "adjoint_speedup_per_round": ratios, "adjoint_speedup_median": statistics.median(ratios)}


def run_config(method: str, dtype: str, config: tuple[int, int, int], min_seconds: float, repeats: int) -> dict:
    """``run_one`` (or ``run_paired`` for method "paired", with ``repeats`` rounds) in a fresh process."""
    n_qubits, layers, batch = config
    row = {"method": method, "dtype": dtype, "n_qubits": n_qubits, "layers": layers, "batch": batch}
    arguments = [method, dtype, *map(str, config), str(min_seconds), str(repeats)]
    return run_isolated(__file__, row, arguments, CONFIG_TIMEOUT_S)


def print_table(rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="adjoint vs backprop: samples/s (forward + backward), standard circuit")
    for column in ("method", "dtype", "n", "L", "B", "samples/s (median)", "range", "peak MiB", "adjoint / backprop"):
        table.add_column(column, justify="right")
    backprop = {(r["n_qubits"], r["layers"], r["batch"]): r.get("samples_per_s") for r in rows if r["method"] == "backprop"}
    for r in rows:
        config = (r["method"], r["dtype"], str(r["n_qubits"]), str(r["layers"]), str(r["batch"]))
        if "error" in r:
            table.add_row(*config, "-", r["error"][:60], "", "")
            continue
        reference = backprop.get((r["n_qubits"], r["layers"], r["batch"]))
        ratio = f"{r['samples_per_s'] / reference:.2f}x" if r["method"] == "adjoint" and reference else ""
        table.add_row(*config, f"{r['samples_per_s']:,.2f}", f"{r['min']:,.2f}-{r['max']:,.2f}",
                      f"{r['peak_rss_mib']:.0f}", ratio)
    Console().print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=int, nargs=3, action="append", metavar=("N", "LAYERS", "BATCH"),
                        help="a configuration to run (repeatable; default: the built-in grid)")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="complex64")
    parser.add_argument("--min-seconds", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch threads per run (default: torch's choice)")
    parser.add_argument("--paired", type=int, default=0, metavar="ROUNDS",
                        help="also alternate the two methods for ROUNDS rounds in one process per configuration")
    parser.add_argument("--note", default="", help="recorded with the results (e.g. the machine's other load)")
    parser.add_argument("--output", type=Path, default=RESULTS / "adjoint.json")
    parser.add_argument("--one", nargs=7, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads:
        os.environ["QVEC_BENCH_THREADS"] = str(args.threads)
    if args.one:
        method, dtype, n, layers, batch, seconds, repeats = args.one
        if method == "paired":
            print(json.dumps(run_paired(dtype, int(n), int(layers), int(batch), int(repeats))))
        else:
            print(json.dumps(run_one(method, dtype, int(n), int(layers), int(batch), float(seconds), int(repeats))))
        return
    load_before = os.getloadavg()
    rows, paired = [], []
    for config in [tuple(c) for c in args.config] if args.config else DEFAULT_CONFIGS:
        for method in METHODS:
            rows.append(run_config(method, args.dtype, config, args.min_seconds, args.repeats))
            print(json.dumps(rows[-1]), file=sys.stderr)
        if args.paired:
            paired.append(run_config("paired", args.dtype, config, 0.0, args.paired))
            print(json.dumps(paired[-1]), file=sys.stderr)
    print_table(rows)
    for p in paired:
        if "error" not in p:
            print(f"paired n={p['n_qubits']} L={p['layers']} B={p['batch']}: adjoint / backprop speed "
                  f"{p['adjoint_speedup_median']:.2f}x (median of {len(p['adjoint_speedup_per_round'])} rounds)")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    record = {"benchmark": "adjoint vs backprop, standard circuit", "command": " ".join(["python", *sys.argv]),
              "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine_info(),
              "torch_threads_per_run": int(os.environ.get("QVEC_BENCH_THREADS", torch.get_num_threads())),
              # other processes' load while measuring: compare the two methods within this run only
              "load_average_1_5_15_min": {"before": load_before, "after": os.getloadavg()},
              "note": args.note, "dtype": args.dtype, "results": rows, "paired": paired}
    args.output.write_text(json.dumps(record, indent=2))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
