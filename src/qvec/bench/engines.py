"""``qvec bench qubit`` and ``qvec bench cv``: forward + backward samples/s of qvec's layers over B, beside peers.

qvec is measured through the layer a model trains (``QuantumLayer``, ``PhotonicLayer``): one step is
``layer(x).sum().backward()``. Peers (``qvec.bench.peers``) run the same circuit, weights and inputs.
At each B every engine runs in its own worker process (``python engines.py --worker``, the protocol of
``qvec.bench.workers``), so a peer's import, compile or crash never touches qvec's figures. The workers start
one at a time (a JIT peer's first step, its compile, is reported apart from its steady rate), then are
measured in interleaved rounds, one window each in turn: this machine's speed drifts by up to 2x within
minutes, and rates taken minutes apart made the qvec / peer ratios flip between runs.
Strawberry Fields runs from another interpreter (``--sf-python``): it needs numpy < 2 and TensorFlow 2.15.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import torch

from qvec.bench.peers import PEERS, PeerRun
from qvec.bench.workers import Worker, protocol_output, run_interleaved, serve
from qvec.bench.workloads import Workload

__all__ = ["PEER_PACKAGES", "engine_run", "engine_worker", "missing_peer", "photonic_circuit_data", "ratios",
           "run_engines", "table"]

# engine name -> (module it imports, distribution that provides it)
PEER_PACKAGES = {"pennylane": ("pennylane", "pennylane"), "tensorcircuit": ("tensorcircuit", "tensorcircuit-ng"),
                 "piquasso": ("piquasso", "piquasso")}
SF_SCRIPT = Path(__file__).with_name("strawberryfields_step.py")
find_spec = importlib.util.find_spec  # tests replace it to pretend a peer is not installed


def missing_peer(engine: str) -> str | None:
    """Why ``engine`` cannot run here (not installed), or None when it can."""
    module, distribution = PEER_PACKAGES[engine]
    if find_spec(module) is None:
        return f"skipped: {distribution} is not installed (pip install 'qvec[bench]')"
    return None


def qvec_run(workload: Workload, batch: int) -> PeerRun:
    layer, x = workload.layer(), workload.inputs(batch)

    def step() -> None:
        layer(x).sum().backward()

    return PeerRun(workload.dtype, lambda: layer(x).detach().double().numpy(), step, compiles=False)


def engine_run(engine: str, workload: Workload, batch: int) -> PeerRun:
    """qvec or a peer on ``workload`` at ``batch`` rows; peers get qvec's inputs and seeded weights in float64."""
    if engine == "qvec":
        return qvec_run(workload, batch)
    weights = workload.layer().weights.detach().double().numpy()
    return PEERS[workload.kind][engine](workload, workload.inputs(batch).double().numpy(), weights)


def engine_worker(engine: str, workload: Workload, batch: int, min_seconds: float, threads: int, timeout_s: float,
                  sf_python: str | None = None) -> Worker:
    """The worker process that measures ``engine`` at ``batch`` rows: this script's ``--worker`` mode, or
    Strawberry Fields' script under ``sf_python``."""
    row = {"engine": engine, "batch": batch}
    if engine != "strawberryfields":
        job = {"engine": engine, "workload": workload.as_dict(), "batch": batch, "min_seconds": min_seconds,
               "threads": threads}
        return Worker(row, [sys.executable, __file__, "--worker"], job, timeout_s)
    job = {"n_modes": workload.size, "cutoff": workload.cutoff, "batch": batch, "min_seconds": min_seconds,
           "operations": photonic_circuit_data(workload),
           "weights": workload.layer().weights.detach().double().tolist(),
           "inputs": workload.inputs(batch).double().tolist()}
    return Worker({**row, "precision": "complex64"}, [sf_python, str(SF_SCRIPT)], job, timeout_s)


def _against_qvec(result: dict, workload: Workload, batch: int) -> dict:
    """A peer's figures with its first-step outputs replaced by their largest difference from qvec's."""
    values = torch.tensor(result.pop("values"), dtype=torch.float64)
    with torch.no_grad():
        mine = workload.layer()(workload.inputs(batch)).double()
    return {**result, "max_abs_diff_vs_qvec": float((values - mine).abs().max())}


def photonic_circuit_data(workload: Workload) -> dict:
    """The photonic circuit as plain data for the Strawberry Fields script: operations, input and weight names."""
    from qvec.bench.circuits import gan_generator_circuit

    circuit, inputs, weights = gan_generator_circuit(workload.size, workload.layers)
    return {"inputs": inputs, "weights": weights,
            "operations": [{"name": op.name, "modes": list(op.modes), "params": list(op.params)} for op in circuit]}


def _unmeasured(engine: str, batch: int, sf_python: str | None) -> dict | None:
    """The skipped row of an engine that cannot run here, or None when it can."""
    if engine == "strawberryfields" and not sf_python:
        return {"engine": engine, "batch": batch, "precision": "complex64", "skipped": "skipped: --sf-python not "
                "given (Strawberry Fields needs numpy < 2 and TensorFlow 2.15, so it runs from its own environment)"}
    if engine not in ("qvec", "strawberryfields") and missing_peer(engine):
        return {"engine": engine, "batch": batch, "skipped": missing_peer(engine)}
    return None


def _finished(row: dict, workload: Workload) -> dict:
    """A measured row with its compile seconds (a JIT peer's first step less a steady one) and, for a peer that
    answers its first-step outputs, their largest difference from qvec's."""
    if "error" in row:
        return row
    steady_s = row["batch"] / row["samples_per_s"]
    row["compile_s"] = round(row["first_step_s"] - steady_s, 3) if row.pop("compiles", False) else None
    return _against_qvec(row, workload, row["batch"]) if "values" in row else row


def run_engines(engines: list[str], workload: Workload, batches: list[int], min_seconds: float, repeats: int,
                threads: int, timeout_s: float, sf_python: str | None, report=lambda row: None) -> list[dict]:
    """Each engine at each B: per B one worker per engine that can run, measured in interleaved rounds (qvec
    first, then the peers in the given order); peers that cannot run give a skipped row."""
    rows = []
    for batch in batches:
        skipped = {engine: _unmeasured(engine, batch, sf_python) for engine in engines}
        runnable = [engine for engine in engines if skipped[engine] is None]
        workers = [engine_worker(e, workload, batch, min_seconds, threads, timeout_s, sf_python) for e in runnable]
        measured = dict(zip(runnable, run_interleaved(workers, repeats)))
        for engine in engines:
            row = skipped[engine] or _finished(measured[engine], workload)
            rows.append(row)
            report(row)
    return rows


def ratios(rows: list[dict]) -> dict[tuple[str, int], float]:
    """qvec's samples/s over each peer's, per (peer, B), where both were measured."""
    qvec = {r["batch"]: r["samples_per_s"] for r in rows if r["engine"] == "qvec" and "samples_per_s" in r}
    return {(r["engine"], r["batch"]): qvec[r["batch"]] / r["samples_per_s"] for r in rows
            if r["engine"] != "qvec" and r.get("samples_per_s") and r["batch"] in qvec}


def table(rows: list[dict], title: str, qvec_precision: str):
    """A rich table of every row, with qvec's ratio to each peer naming both precisions."""
    from rich.table import Table

    ratio = ratios(rows)
    grid = Table(title=title, caption="samples/s of forward + backward; compile = first step less a steady one")
    for header in ("engine", "precision", "B", "samples/s", "range", "first step s", "compile s", "qvec / engine"):
        grid.add_column(header, justify="left" if header in ("engine", "precision") else "right")
    for r in rows:
        head = (r["engine"], r.get("precision", ""), str(r["batch"]))
        if "samples_per_s" not in r:
            grid.add_row(*head, "-", (r.get("skipped") or r.get("error", "")).split(" (")[0][:70], "", "", "")
            continue
        versus = ratio.get((r["engine"], r["batch"]))
        grid.add_row(*head, f"{r['samples_per_s']:,.1f}", f"{r['min']:,.0f}-{r['max']:,.0f}", f"{r['first_step_s']:.2f}",
                     "" if r.get("compile_s") is None else f"{r['compile_s']:.1f}",
                     "" if versus is None else f"{versus:.2f}x (qvec {qvec_precision} / {r['engine']} {r['precision']})")
    return grid


def _worker() -> None:
    """``--worker``: build the step of the job on stdin's first line and serve the protocol of
    ``qvec.bench.workers``."""
    answers = protocol_output()
    job = json.loads(sys.stdin.readline())
    torch.set_num_threads(job["threads"])
    spec = {k: v for k, v in job["workload"].items() if k != "label"}
    run = engine_run(job["engine"], Workload(**spec), job["batch"])
    facts = {"precision": run.precision, "threads": torch.get_num_threads(), "compiles": run.compiles}
    serve(run.step, job["batch"], job["min_seconds"], facts, answers)


def _main() -> None:
    parser = argparse.ArgumentParser(description="one engine's measuring worker (used by qvec bench)")
    parser.add_argument("--worker", action="store_true", required=True,
                        help="read the job from stdin, then answer window and finish commands")
    parser.parse_args()
    _worker()


if __name__ == "__main__":
    _main()
