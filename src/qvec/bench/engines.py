"""``qvec bench qubit`` and ``qvec bench cv``: forward + backward samples/s of qvec's layers over B, beside peers.

qvec is measured through the layer a model trains (``QuantumLayer``, ``PhotonicLayer``): one step is
``layer(x).sum().backward()``. Peers (``qvec.bench.peers``) run the same circuit, weights and inputs. Every
configuration runs in a fresh process (``run_isolated``), so a peer's import, compile or crash never
touches qvec's figures; a JIT peer's first step (its compile) is reported apart from its steady rate.
Strawberry Fields runs from another interpreter (``--sf-python``): it needs numpy < 2 and TensorFlow 2.15.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import time
from pathlib import Path

import torch

from qvec.bench.peers import PEERS, PeerRun
from qvec.bench.timing import measure_step, run_isolated
from qvec.bench.workloads import Workload

__all__ = ["PEER_PACKAGES", "engine_run", "measure", "missing_peer", "photonic_circuit_data", "ratios",
           "run_engines", "run_strawberryfields", "table"]

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


def measure(engine: str, workload: Workload, batch: int, min_seconds: float, repeats: int, threads: int) -> dict:
    """Samples/s of ``engine``'s step in this process; the first step's seconds, and for a JIT peer its compile
    (the first step less a steady one)."""
    torch.set_num_threads(threads)
    run = engine_run(engine, workload, batch)
    start = time.perf_counter()
    run.step()
    first = time.perf_counter() - start
    result = measure_step(run.step, batch, min_seconds, repeats)
    compile_s = first - batch / result["samples_per_s"] if run.compiles else None
    return {"engine": engine, "precision": run.precision, "batch": batch, "threads": threads, **result,
            "first_step_s": round(first, 3), "compile_s": None if compile_s is None else round(compile_s, 3)}


def run_strawberryfields(python: str, workload: Workload, batch: int, min_seconds: float, repeats: int,
                         timeout_s: float) -> dict:
    """Strawberry Fields' TF backend on the same circuit, weights and inputs, run by another interpreter."""
    row = {"engine": "strawberryfields", "precision": "complex64", "batch": batch}
    circuit = photonic_circuit_data(workload)
    job = {"n_modes": workload.size, "cutoff": workload.cutoff, "batch": batch, "min_seconds": min_seconds,
           "repeats": repeats, "operations": circuit,
           "weights": workload.layer().weights.detach().double().tolist(),
           "inputs": workload.inputs(batch).double().tolist()}
    try:
        completed = subprocess.run([python, str(SF_SCRIPT)], input=json.dumps(job), capture_output=True, text=True,
                                   timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return {**row, "error": f"timed out after {timeout_s} s"}
    except OSError as error:
        return {**row, "error": f"cannot run {python}: {error.strerror}"}
    if completed.returncode != 0:
        return {**row, "error": (completed.stderr.strip().splitlines() or [f"exit {completed.returncode}"])[-1]}
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    return {**row, **_against_qvec(result, workload, batch)}


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


def run_engines(engines: list[str], workload: Workload, batches: list[int], min_seconds: float, repeats: int,
                threads: int, timeout_s: float, sf_python: str | None, report=lambda row: None) -> list[dict]:
    """Each engine at each B, each configuration in a fresh process; peers that cannot run give a skipped row."""
    rows = []
    for batch in batches:
        for engine in engines:
            row = {"engine": engine, "batch": batch}
            if engine == "strawberryfields":
                row = (run_strawberryfields(sf_python, workload, batch, min_seconds, repeats, timeout_s) if sf_python
                       else {**row, "precision": "complex64", "skipped": "skipped: --sf-python not given (Strawberry "
                             "Fields needs numpy < 2 and TensorFlow 2.15, so it runs from its own environment)"})
            elif engine != "qvec" and missing_peer(engine):
                row = {**row, "skipped": missing_peer(engine)}
            else:
                job = json.dumps({"engine": engine, "workload": workload.as_dict(), "batch": batch,
                                  "min_seconds": min_seconds, "repeats": repeats, "threads": threads})
                row = run_isolated(__file__, row, [job], timeout_s)
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


def _main() -> None:
    parser = argparse.ArgumentParser(description="one isolated engine measurement (used by qvec bench)")
    parser.add_argument("--one", required=True, help="the job as JSON")
    job = json.loads(parser.parse_args().one)
    spec = {k: v for k, v in job["workload"].items() if k != "label"}
    print(json.dumps(measure(job["engine"], Workload(**spec), job["batch"], job["min_seconds"], job["repeats"],
                             job["threads"])))


if __name__ == "__main__":
    _main()
