"""Benchmark of the batched qubit engine on the standard circuit of docs/performance.md.

n qubits; RY(x_i) per row on every qubit; L layers of RX, RY, RZ on every qubit with weights
shared by the batch, each closed by a CNOT ring; outputs <Z_i>. One step = forward and backward
of the sum of outputs with respect to the weights. Prints a table of samples/s and peak memory
and writes JSON to bench/results/. With PennyLane installed (the `bench` extra) it runs the same
circuit on default.qubit (torch, backprop, broadcasting) in the same run and prints the ratio. Every row records the precision it ran in:
qvec's is chosen with ``--dtype`` (complex64, its default, and/or complex128); PennyLane's
default.qubit always simulates in complex128.

    python bench/bench_qubit.py                       # the full grid
    python bench/bench_qubit.py --qubits 8 --batches 1 16 256 4096 --repeats 5
    python bench/bench_qubit.py --qubits 8 --dtype complex64 complex128 --pennylane
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import torch

from qvec.bench.timing import machine_info, measure_step

RESULTS = Path(__file__).parent / "results"


# The state precision of each side; angles are real numbers of the matching width.
DTYPES = {"complex64": (torch.complex64, torch.float32), "complex128": (torch.complex128, torch.float64)}
PENNYLANE_DTYPE = "complex128"  # default.qubit's state dtype (its c_dtype default), whatever the inputs' dtype


def qvec_step(n_qubits: int, layers: int, batch: int, dtype: str):
    from qvec.bench.circuits import standard_qubit_circuit

    complex_dtype, real_dtype = DTYPES[dtype]
    circuit = standard_qubit_circuit(n_qubits, layers)
    names = [p for p in circuit.parameters if p.startswith("w")]
    weights = torch.randn(len(names), dtype=real_dtype, requires_grad=True)
    inputs = {f"x{q}": torch.rand(batch, dtype=real_dtype) * 3.14 for q in range(n_qubits)}
    observables = [f"Z{q}" for q in range(n_qubits)]

    def step() -> None:
        out = circuit.expval(observables, {**inputs, **dict(zip(names, weights.unbind()))}, dtype=complex_dtype)
        out.sum().backward()

    return step


def pennylane_step(n_qubits: int, layers: int, batch: int, dtype: str):
    """PennyLane default.qubit (torch, backprop) on the same circuit: ``qvec bench``'s own peer step."""
    import numpy as np

    from qvec.bench.peers import pennylane_run
    from qvec.bench.workloads import qubit_workload

    if dtype != PENNYLANE_DTYPE:
        raise ValueError(f"PennyLane default.qubit runs in {PENNYLANE_DTYPE}, not {dtype}")
    rng = np.random.default_rng(0)
    x, weights = rng.random((batch, n_qubits)) * 3.14, rng.standard_normal(layers * n_qubits * 3)
    return pennylane_run(qubit_workload(n_qubits, layers), x, weights).step


def run_one(engine: str, dtype: str, n_qubits: int, layers: int, batch: int, min_seconds: float, repeats: int) -> dict:
    """Measure one configuration in this process; peak memory is this process's maximum RSS growth."""
    torch.set_num_threads(int(os.environ.get("QVEC_BENCH_THREADS", torch.get_num_threads())))
    make = qvec_step if engine == "qvec" else pennylane_step
    result = measure_step(make(n_qubits, layers, batch, dtype), batch, min_seconds, repeats)
    return {"engine": engine, "dtype": dtype, "n_qubits": n_qubits, "layers": layers, "batch": batch, **result}


# PennyLane's broadcast backprop keeps many complex128 copies of the [B, 2**n] state: at n = 16,
# B = 256 (2**24 amplitudes) it was killed for memory on a 24 GiB machine, so configurations past
# this many amplitudes are skipped, not run.
PENNYLANE_MAX_AMPLITUDES = 2**23
CONFIG_TIMEOUT_S = 900


def run_isolated(engine: str, dtype: str, n_qubits: int, layers: int, batch: int, min_seconds: float, repeats: int) -> dict:
    row = {"engine": engine, "dtype": dtype, "n_qubits": n_qubits, "layers": layers, "batch": batch}
    if engine == "pennylane" and batch * 2**n_qubits > PENNYLANE_MAX_AMPLITUDES:
        return {**row, "error": f"skipped: B * 2**n > {PENNYLANE_MAX_AMPLITUDES} amplitudes (memory)"}
    command = [sys.executable, __file__, "--one", engine, dtype, str(n_qubits), str(layers), str(batch), str(min_seconds), str(repeats)]
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=CONFIG_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {**row, "error": f"timed out after {CONFIG_TIMEOUT_S} s"}
    if completed.returncode != 0:
        return {**row, "error": (completed.stderr.strip().splitlines() or ["exit " + str(completed.returncode)])[-1]}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def print_table(rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="qubit engine: samples/s (forward + backward), standard circuit")
    for column in ("engine", "dtype", "n", "L", "B", "samples/s (median)", "range", "peak MiB",
                   f"qvec / pennylane ({PENNYLANE_DTYPE})"):
        table.add_column(column, justify="right")
    reference = {(r["n_qubits"], r["batch"]): r.get("samples_per_s") for r in rows if r["engine"] == "pennylane"}
    for r in rows:
        config = (r["engine"], r["dtype"], str(r["n_qubits"]), str(r["layers"]), str(r["batch"]))
        if "error" in r:
            table.add_row(*config, "-", r["error"][:48], "", "")
            continue
        ratio = ""
        if r["engine"] == "qvec" and reference.get((r["n_qubits"], r["batch"])):
            ratio = f"{r['samples_per_s'] / reference[(r['n_qubits'], r['batch'])]:.1f}x"
        table.add_row(*config, f"{r['samples_per_s']:,.0f}", f"{r['min']:,.0f}-{r['max']:,.0f}", f"{r['peak_rss_mib']:.0f}", ratio)
    Console().print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qubits", type=int, nargs="+", default=[4, 8, 12, 16])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16, 256, 4096])
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--min-seconds", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch threads per run (default: torch's choice)")
    parser.add_argument("--dtype", nargs="+", choices=sorted(DTYPES), default=["complex64"],
                        help="qvec's state precision(s); each is measured (default: complex64)")
    parser.add_argument("--pennylane", action="store_true",
                        help=f"also run PennyLane default.qubit, {PENNYLANE_DTYPE} (needs the bench extra)")
    parser.add_argument("--output", type=Path, default=RESULTS / "qubit.json")
    parser.add_argument("--one", nargs=7, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads:
        os.environ["QVEC_BENCH_THREADS"] = str(args.threads)
    if args.one:
        engine, dtype, n, layers, batch, seconds, repeats = args.one
        print(json.dumps(run_one(engine, dtype, int(n), int(layers), int(batch), float(seconds), int(repeats))))
        return
    load_before = os.getloadavg()
    engines = [("qvec", dtype) for dtype in args.dtype] + ([("pennylane", PENNYLANE_DTYPE)] if args.pennylane else [])
    rows = []
    for n_qubits in args.qubits:
        for batch in args.batches:
            for engine, dtype in engines:
                rows.append(run_isolated(engine, dtype, n_qubits, args.layers, batch, args.min_seconds, args.repeats))
                print(json.dumps(rows[-1]), file=sys.stderr)
    print_table(rows)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    record = {"benchmark": "qubit standard circuit", "command": " ".join(["python", *sys.argv]),
              "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine_info(),
              "torch_threads_per_run": int(os.environ.get("QVEC_BENCH_THREADS", torch.get_num_threads())),
              # other processes' load while measuring: figures from a loaded machine are compared within one run only
              "load_average_1_5_15_min": {"before": load_before, "after": os.getloadavg()},
              "precision": {"qvec": args.dtype, "pennylane": PENNYLANE_DTYPE if args.pennylane else None}, "results": rows}
    args.output.write_text(json.dumps(record, indent=2))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
