"""Benchmark of the photonic (Fock) engine on the CV quantum GAN generator circuit (issue 3).

M modes, cutoff c; the latent z enters as D(z_m) on each mode (one value per row); then L = 2
layers of [BS(theta) on neighbours, R(phi) and S(r) on each mode, BS again, D(a) and K(kappa)
on each mode], with weights shared by the batch; outputs <x> and <n> of every mode. One step =
forward and backward of the sum of the outputs with respect to the layer weights. Prints a table
of samples/s and peak memory and writes JSON to bench/results/photonic.json.

QVEC_BENCH_THREADS sets torch's thread count in the measuring processes (default: torch's).

Strawberry Fields cannot be installed next to qvec (it needs numpy < 2 and TensorFlow 2.15), so
its figures are quoted from the issue (SF 0.23, TF backend, same 2-core machine class).

    python bench/bench_photonic.py                    # the full grid
    python bench/bench_photonic.py --modes 2 --cutoffs 8 --batches 1 32 --repeats 3
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
LAYERS = 2
TARGETS = {1: 500, 32: 10_000, 1024: 50_000}  # samples/s at M = 2, cutoff 8 (issue 3)
STRAWBERRY_FIELDS = {1: "6.5-8.2", 8: "18.6-23", 32: "28-34"}  # SF 0.23 TF backend, from issue 3


def generator_circuit(n_modes: int, layers: int = LAYERS):
    """The GAN generator: latent displacements, then ``layers`` interferometer/squeeze/Kerr layers."""
    from qvec.photonic import Circuit

    circuit = Circuit(n_modes)
    for m in range(n_modes):
        circuit.d(m, f"z{m}", 0.0)
    for layer in range(layers):
        for m in range(n_modes - 1):
            circuit.bs(m, m + 1, f"l{layer}_bs1_{m}", 0.0)
        for m in range(n_modes):
            circuit.r(m, f"l{layer}_r_{m}").s(m, f"l{layer}_s_{m}", 0.0)
        for m in range(n_modes - 1):
            circuit.bs(m, m + 1, f"l{layer}_bs2_{m}", 0.0)
        for m in range(n_modes):
            circuit.d(m, f"l{layer}_d_{m}", 0.0).k(m, f"l{layer}_k_{m}")
    return circuit


def qvec_step(n_modes: int, cutoff: int, batch: int):
    circuit = generator_circuit(n_modes)
    names = [p for p in circuit.parameters if not p.startswith("z")]
    generator = torch.Generator().manual_seed(0)
    weights = (0.1 * torch.randn(len(names), generator=generator)).requires_grad_()
    latent = {f"z{m}": 0.3 * torch.randn(batch, generator=generator) for m in range(n_modes)}

    def step() -> None:
        state = circuit.run({**latent, **dict(zip(names, weights.unbind()))}, cutoff=cutoff)
        outputs = [state.quad_expectation(m) for m in range(n_modes)] + [state.mean_photon(m) for m in range(n_modes)]
        torch.stack(outputs).sum().backward()

    return step


def run_one(n_modes: int, cutoff: int, batch: int, min_seconds: float, repeats: int) -> dict:
    """Measure one configuration in this process; peak memory is this process's maximum RSS growth."""
    import warnings

    from qvec.photonic import TruncationWarning

    warnings.simplefilter("ignore", TruncationWarning)  # small random weights; the bench measures speed
    torch.set_num_threads(int(os.environ.get("QVEC_BENCH_THREADS", torch.get_num_threads())))
    result = measure_step(qvec_step(n_modes, cutoff, batch), batch, min_seconds, repeats)
    return {"engine": "qvec", "n_modes": n_modes, "cutoff": cutoff, "layers": LAYERS, "batch": batch, **result,
            "threads": torch.get_num_threads()}


def run_isolated(n_modes: int, cutoff: int, batch: int, min_seconds: float, repeats: int) -> dict:
    command = [sys.executable, __file__, "--one", str(n_modes), str(cutoff), str(batch), str(min_seconds), str(repeats)]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        return {"engine": "qvec", "n_modes": n_modes, "cutoff": cutoff, "batch": batch,
                "error": completed.stderr.strip().splitlines()[-1]}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _target_note(row: dict) -> str:
    if row["n_modes"] != 2 or row["cutoff"] != 8 or row["batch"] not in TARGETS:
        return ""
    target = TARGETS[row["batch"]]
    return f"{row['samples_per_s'] / target:.2f}x of {target:,}"


def print_table(rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="photonic engine: GAN generator, samples/s (forward + backward)")
    for column in ("M", "c", "B", "samples/s (median)", "range", "peak MiB", "vs target", "SF 0.23 (issue)"):
        table.add_column(column, justify="right")
    for r in rows:
        head = [str(r["n_modes"]), str(r["cutoff"]), str(r["batch"])]
        if "error" in r:
            table.add_row(*head, "error", r["error"][:40], "", "", "")
            continue
        reference = STRAWBERRY_FIELDS.get(r["batch"], "") if (r["n_modes"], r["cutoff"]) == (2, 8) else ""
        table.add_row(*head, f"{r['samples_per_s']:,.0f}", f"{r['min']:,.0f}-{r['max']:,.0f}",
                      f"{r['peak_rss_mib']:.0f}", _target_note(r), reference)
    Console().print(table)


def grid(args: argparse.Namespace) -> list[tuple[int, int, int]]:
    """(M, c, B) configurations: the issue's M = 2, c = 8 sweep, then M = 3, 4 over the cutoffs."""
    configs = [(2, 8, b) for b in args.batches]
    configs += [(m, c, b) for m in args.modes if m != 2 for c in args.cutoffs for b in args.batches]
    return configs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", type=int, nargs="+", default=[2, 3, 4])
    parser.add_argument("--cutoffs", type=int, nargs="+", default=[6, 8, 10, 12])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32, 1024])
    parser.add_argument("--min-seconds", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=RESULTS / "photonic.json")
    parser.add_argument("--one", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        n_modes, cutoff, batch, seconds, repeats = args.one
        print(json.dumps(run_one(int(n_modes), int(cutoff), int(batch), float(seconds), int(repeats))))
        return
    rows = []
    for n_modes, cutoff, batch in grid(args):
        rows.append(run_isolated(n_modes, cutoff, batch, args.min_seconds, args.repeats))
        print(json.dumps(rows[-1]), file=sys.stderr)
    print_table(rows)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    threads = os.environ.get("QVEC_BENCH_THREADS")
    command = " ".join(([f"QVEC_BENCH_THREADS={threads}"] if threads else []) + ["python", *sys.argv])
    record = {"benchmark": "photonic GAN generator circuit", "command": command,
              "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine_info(),
              "targets_m2_c8": TARGETS, "strawberry_fields_reference": {
                  "source": "issue 3: SF 0.23, TensorFlow 2.15 backend, batch_size=B, 2-core machine; not rerun "
                            "here because SF needs numpy < 2 and TensorFlow 2.15",
                  "samples_per_s_m2_c8": STRAWBERRY_FIELDS}, "results": rows}
    args.output.write_text(json.dumps(record, indent=2))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
