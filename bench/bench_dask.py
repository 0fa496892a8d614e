"""DaskBackend on a LocalCluster of this machine: the cost of a shard, 1 vs 2 workers, the shard size where it pays.

Three measurements, each the median of ``--repeats`` calls after one warm-up call, with the load
averages before and after (the machine may be shared: say so next to any figure taken from here):

- overhead: a 1-qubit circuit, B rows, one row per shard, for several B on 2 workers. The slope of
  seconds against shards is the cost of one shard (submit, schedule, ship, run nothing, gather), the
  intercept the cost of a batch (scatter of the circuit, round trips);
- scaling: the standard circuit (``qvec.bench.circuits.standard_qubit_circuit``), expectation values
  of every Z_q, forward and forward + backward, locally in this process (1 thread) and on 1 and 2
  workers of 1 thread each, one shard per worker;
- shard size: the same circuit and batch on 2 workers for several shard sizes;
- recompute (``--recompute-only``, no cluster): what the workers compute for a forward + backward
  against a local forward + backward, in this process.

    python bench/bench_dask.py                       # writes bench/results/dask.json
    python bench/bench_dask.py --qubits 12 --layers 4 --batch 512 --repeats 5 --out bench/results/dask_n12.json
    python bench/bench_dask.py --recompute-only --repeats 5 --out bench/results/dask_recompute.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Callable

import torch

RESULTS = Path(__file__).parent / "results"

# Its HTTP server (health checks) on a free port of 127.0.0.1, no dashboard pages.
NO_DASHBOARD = {"dashboard": False}


def loads() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def timed(call: Callable[[], object], repeats: int) -> dict:
    """Median, min and max seconds of ``repeats`` calls after one warm-up call, with the load around them."""
    before = loads()
    call()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return {"median_s": statistics.median(seconds), "min_s": min(seconds), "max_s": max(seconds),
            "load_before": before, "load_after": loads()}


def standard_batch(n_qubits: int, layers: int, batch: int):
    from qvec.bench.circuits import standard_qubit_circuit

    circuit = standard_qubit_circuit(n_qubits, layers)
    names = [p for p in circuit.parameters if p.startswith("w")]
    generator = torch.Generator().manual_seed(0)
    weights = torch.randn(len(names), generator=generator, requires_grad=True)
    inputs = {f"x{q}": torch.rand(batch, generator=generator) * 3.14 for q in range(n_qubits)}
    return circuit, [f"Z{q}" for q in range(n_qubits)], lambda: {**inputs, **dict(zip(names, weights.unbind()))}


def step(circuit, observables, params, backend, backward: bool) -> Callable[[], None]:
    def run() -> None:
        if backward:
            circuit.expval(observables, params=params(), backend=backend).sum().backward()
        else:
            with torch.no_grad():
                circuit.expval(observables, params=params(), backend=backend)
    return run


def fit_line(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares slope and intercept."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return slope, my - slope * mx


def overhead(client, repeats: int) -> dict:
    import qvec
    from qvec.backends import DaskBackend

    circuit = qvec.Circuit(1)
    circuit.rx(0, "t")
    backend = DaskBackend(client, shard_size=1)
    rows = []
    for shards in (1, 4, 16, 64):
        t = torch.linspace(0, 1, shards)
        call = partial(circuit.expval, "Z0", params={"t": t}, backend=backend)
        rows.append({"shards": shards, **timed(call, repeats)})
    slope, intercept = fit_line([r["shards"] for r in rows], [r["median_s"] for r in rows])
    return {"rows": rows, "seconds_per_shard": slope, "seconds_per_batch": intercept}


def scaling(clients: dict, n_qubits: int, layers: int, batch: int, repeats: int) -> list[dict]:
    from qvec.backends import DaskBackend

    circuit, observables, params = standard_batch(n_qubits, layers, batch)
    rows = []
    for backward in (False, True):
        torch.set_num_threads(1)
        rows.append({"where": "local, 1 thread", "backward": backward,
                     **timed(step(circuit, observables, params, None, backward), repeats)})
        for label, client in clients.items():
            backend = DaskBackend(client)  # one shard per worker thread
            rows.append({"where": label, "backward": backward,
                         **timed(step(circuit, observables, params, backend, backward), repeats)})
    return rows


def shard_sizes(client, n_qubits: int, layers: int, batch: int, repeats: int) -> list[dict]:
    from qvec.backends import DaskBackend

    circuit, observables, params = standard_batch(n_qubits, layers, batch)
    rows = []
    for size in (8, 32, 128, batch // 2):
        backend = DaskBackend(client, shard_size=size)
        rows.append({"shard_size": size, **timed(step(circuit, observables, params, backend, False), repeats)})
    return rows


def recompute(n_qubits: int, layers: int, batch: int, repeats: int) -> dict:
    """In this process, 1 thread, no Dask: a local forward + backward against what the workers do for one
    (``run_shard`` forward, then ``vjp_shard`` forward again under autograd and backward), the whole batch as one
    shard. Their ratio is the price of recomputing the forward pass instead of keeping graphs on the workers."""
    from qvec.backends import LocalBackend
    from qvec.backends.dask.shards import Call, Template, run_shard, split_batch, vjp_shard

    torch.set_num_threads(1)
    circuit, observables, params = standard_batch(n_qubits, layers, batch)
    template, layout, tensors = split_batch(circuit, params())
    call, shard = Call("expval", (observables,), {"dtype": torch.complex64, "device": None}), Template(template,
                                                                                                       LocalBackend())
    needs = tuple(t.requires_grad for t in tensors)
    ones = torch.ones(batch, len(observables))

    def on_workers() -> None:
        run_shard(shard, call, layout, layout.shard(tensors, 0, batch))
        vjp_shard(shard, call, layout, layout.shard(tensors, 0, batch), needs, ones)

    local = timed(step(circuit, observables, params, None, True), repeats)
    workers = timed(on_workers, repeats)
    return {"local_forward_backward": local, "worker_forward_then_vjp": workers,
            "ratio": workers["median_s"] / local["median_s"]}


def cluster(workers: int):
    from distributed import Client, LocalCluster

    started = LocalCluster(n_workers=workers, processes=True, threads_per_worker=1, host="127.0.0.1",
                           dashboard_address="127.0.0.1:0", scheduler_kwargs=NO_DASHBOARD)
    return started, Client(started, set_as_default=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qubits", type=int, default=10)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS / "dask.json")
    parser.add_argument("--recompute-only", action="store_true",
                        help="Only the in-process cost of the workers' recomputation (no cluster).")
    args = parser.parse_args()
    from qvec.bench.timing import machine_info

    if args.recompute_only:
        result = {"benchmark": "dask-recompute", "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "machine": machine_info(), "circuit": {"n_qubits": args.qubits, "layers": args.layers,
                                                         "batch": args.batch, "dtype": "complex64"},
                  **recompute(args.qubits, args.layers, args.batch, args.repeats)}
        args.out.write_text(json.dumps(result, indent=1) + "\n")
        print(f"local fwd+bwd {result['local_forward_backward']['median_s'] * 1e3:.0f} ms, workers' forward then "
              f"VJP {result['worker_forward_then_vjp']['median_s'] * 1e3:.0f} ms: {result['ratio']:.2f}x")
        return

    started = {workers: cluster(workers) for workers in (1, 2)}
    clients = {f"dask, {w} worker(s) x 1 thread": client for w, (_, client) in started.items()}
    try:
        result = {
            "benchmark": "dask", "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": machine_info(), "load_at_start": loads(),
            "circuit": {"n_qubits": args.qubits, "layers": args.layers, "batch": args.batch, "dtype": "complex64"},
            "overhead_2_workers": overhead(started[2][1], args.repeats),
            "scaling": scaling(clients, args.qubits, args.layers, args.batch, args.repeats),
            "shard_size_2_workers": shard_sizes(started[2][1], args.qubits, args.layers, args.batch, args.repeats),
            "load_at_end": loads(),
        }
    finally:
        for local_cluster, client in started.values():
            client.close()
            local_cluster.close()
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print_tables(result)


def print_tables(result: dict) -> None:
    over = result["overhead_2_workers"]
    print(f"overhead: {over['seconds_per_shard'] * 1e3:.2f} ms per shard, {over['seconds_per_batch'] * 1e3:.1f} ms "
          "per batch")
    for row in over["rows"]:
        print(f"  {row['shards']:4d} shards  {row['median_s'] * 1e3:8.1f} ms  load {row['load_before']}")
    c = result["circuit"]
    print(f"standard circuit n={c['n_qubits']} L={c['layers']} B={c['batch']}")
    for row in result["scaling"]:
        kind = "fwd+bwd" if row["backward"] else "fwd"
        print(f"  {row['where']:32s} {kind:8s} {row['median_s'] * 1e3:8.1f} ms  ({c['batch'] / row['median_s']:8.0f} "
              f"rows/s)  load {row['load_before']}")
    for row in result["shard_size_2_workers"]:
        print(f"  shard size {row['shard_size']:5d}  {row['median_s'] * 1e3:8.1f} ms  load {row['load_before']}")


if __name__ == "__main__":
    main()
