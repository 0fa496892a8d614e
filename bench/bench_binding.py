"""Binding cost of ``QuantumLayer``'s weights (issue 9): a dict of one scalar per weight against one stacked tensor.

The standard circuit (n = 8, L = 4: 96 weights, 8 inputs, outputs <Z_q>), complex64, forward + backward of
the summed outputs, three steps, each in a fresh process:

- ``layer``: ``QuantumLayer(...)(x).sum().backward()``, whatever binding the measured qvec's layer uses;
- ``dict``: ``qvec.execute`` with ``{name: column}``, the weights as ``weights.unbind()`` (one view each);
- ``stack``: ``qvec.execute`` with a ``ParameterStack`` (weights [96] and inputs [B, 8] whole);
- ``bind:dict``, ``bind:stack``: the binding alone (params, ``bind_parameters``, the engine's gate angles,
  their backward), best of 2,000 in one thread, current tree only: the least load-sensitive figure.

Each step reports wall time (median and best of ``--repeats`` runs) and CPU time per step (median and
lowest), the latter less inflated by other processes' load. ``--before SRC`` measures the same steps
with ``SRC`` (e.g. an exported older ``src/``) first on the path, interleaved with the current tree so
that both see the same load; ``stack`` is absent there.

    python bench/bench_binding.py --before /tmp/base/src      # B = 1 and 256, 2 threads
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import timeit
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import torch

RESULTS = Path(__file__).parent / "results"
STEPS = ("layer", "dict", "stack")
BINDING_STEPS = ("bind:dict", "bind:stack")  # the current tree only: the binding alone, best of BINDING_REPEATS
BINDING_REPEATS = 2000
CONFIG_TIMEOUT_S = 600


def make_step(kind: str, n_qubits: int, layers: int, batch: int) -> Callable[[], None]:
    """One forward + backward of the standard circuit with the binding ``kind``."""
    from qvec.bench.circuits import standard_qubit_circuit
    from qvec.execute import Expval, execute
    from qvec.nn import QuantumLayer

    circuit = standard_qubit_circuit(n_qubits, layers)
    inputs = [f"x{q}" for q in range(n_qubits)]
    names = [p for p in circuit.parameters if p.startswith("w")]
    observables = [f"Z{q}" for q in range(n_qubits)]
    layer = QuantumLayer(circuit, inputs, names, observables, seed=0, dtype=torch.complex64)
    x = torch.rand(batch, n_qubits, generator=torch.Generator().manual_seed(0)) * 3.14
    if kind == "layer":
        return lambda: layer(x).sum().backward()
    measurement, weights = Expval(tuple(observables)), layer.weights

    def params() -> object:
        if kind == "dict":
            return dict(zip(inputs, x.unbind(-1))) | dict(zip(names, weights.unbind()))
        from qvec.circuit.parameters import ParameterStack

        return ParameterStack((names, weights), (inputs, x))

    return lambda: execute(circuit, params(), measurement, dtype=torch.complex64).sum().backward()


def binding_step(kind: str, n_qubits: int, layers: int, batch: int) -> Callable[[], None]:
    """The binding alone (``bind:dict`` or ``bind:stack``): the params, ``bind_parameters`` and the gate angles
    of the shared and the per-row gates as the engine reads them, then the backward pass of those angles."""
    from qvec.bench.circuits import standard_qubit_circuit
    from qvec.circuit.parameters import ParameterStack, bind_parameters
    from qvec.sim import prepare
    from qvec.sim.matrices import _groups, _stack_angles

    circuit = standard_qubit_circuit(n_qubits, layers)
    inputs = [f"x{q}" for q in range(n_qubits)]
    names = [p for p in circuit.parameters if p.startswith("w")]
    weights = torch.rand(len(names), requires_grad=True)
    x = torch.rand(batch, n_qubits, generator=torch.Generator().manual_seed(0))
    stacked = kind == "bind:stack"

    def params() -> object:
        if stacked:
            return ParameterStack((names, weights), (inputs, x))
        return dict(zip(inputs, x.unbind(-1))) | dict(zip(names, weights.unbind()))

    program = prepare(circuit, params()).program
    shared = tuple(i for i in range(len(program.gates)) if i not in program.row_ops)
    groups = [(g.members, None) for g in _groups(program, shared)]
    groups += [(g.members, batch) for g in _groups(program, tuple(sorted(program.row_ops)))]
    cpu = torch.device("cpu")

    def step() -> None:
        bound = bind_parameters(circuit.parameters, params(), [], check_finite=False)
        angles = [_stack_angles(program, ops, bound, [], rows, torch.float32, cpu) for ops, rows in groups]
        sum(a.sum() for a in angles).backward()

    return step


def cpu_us_per_step(step: Callable[[], None], min_seconds: float) -> dict:
    """Median and lowest CPU time of this process per step (all its threads), which waits for a busy CPU
    do not inflate as they do wall time on a shared machine."""
    times, start = [], time.perf_counter()
    while time.perf_counter() - start < min_seconds or len(times) < 5:
        before = time.process_time()
        step()
        times.append(time.process_time() - before)
    return {"cpu_us_per_step_median": 1e6 * statistics.median(times), "cpu_us_per_step_min": 1e6 * min(times),
            "cpu_steps": len(times)}


def run_one(kind: str, n_qubits: int, layers: int, batch: int, min_seconds: float, repeats: int, threads: int) -> dict:
    from qvec.bench.timing import measure_step

    import qvec

    torch.set_num_threads(threads)
    if kind.startswith("bind:"):
        best = min(timeit.repeat(binding_step(kind, n_qubits, layers, batch), number=1, repeat=BINDING_REPEATS))
        return {"step": kind, "batch": batch, "threads": torch.get_num_threads(), "best_us_per_step": 1e6 * best,
                "qvec": str(Path(qvec.__file__).resolve().parent)}
    step = make_step(kind, n_qubits, layers, batch)
    result = measure_step(step, batch, min_seconds, repeats)
    return {"step": kind, "n_qubits": n_qubits, "layers": layers, "batch": batch, "threads": torch.get_num_threads(),
            "qvec": str(Path(qvec.__file__).resolve().parent), "us_per_step": 1e6 * batch / result["samples_per_s"],
            "best_us_per_step": 1e6 * batch / result["max"], **result, **cpu_us_per_step(step, min_seconds * repeats / 2)}


def run_isolated(row: dict, arguments: list[str], source: str | None) -> dict:
    """This script with ``--one ARGUMENTS`` in a fresh process (``source`` first on the path): its last line as JSON."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")])))
    try:
        done = subprocess.run([sys.executable, __file__, "--one", *arguments], capture_output=True, text=True,
                              timeout=CONFIG_TIMEOUT_S, env=env if source else None)
    except subprocess.TimeoutExpired:
        return {**row, "error": f"timed out after {CONFIG_TIMEOUT_S} s"}
    if done.returncode != 0:
        return {**row, "error": (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]}
    return {**row, **json.loads(done.stdout.strip().splitlines()[-1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qubits", type=int, default=8)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 256])
    parser.add_argument("--min-seconds", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--before", help="a src/ directory measured first on the path, as 'before'")
    parser.add_argument("--output", type=Path, default=RESULTS / "binding.json")
    parser.add_argument("--one", nargs=7, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        kind, n, layers, batch, seconds, repeats, threads = args.one
        print(json.dumps(run_one(kind, int(n), int(layers), int(batch), float(seconds), int(repeats), int(threads))))
        return
    from qvec.bench.timing import machine_info

    trees = [("before", args.before), ("after", None)] if args.before else [("after", None)]
    load_before, rows = os.getloadavg(), []
    for batch in args.batches:
        for kind in BINDING_STEPS:
            row = {"tree": "after", "step": kind, "batch": batch}
            rows.append(run_isolated(row, [kind, str(args.qubits), str(args.layers), str(batch), "0", "0", "1"], None))
            print(json.dumps(rows[-1]), file=sys.stderr)
        for kind in STEPS:
            for tree, source in trees:
                if tree == "before" and kind == "stack":
                    continue
                row = {"tree": tree, "step": kind, "batch": batch}
                settings = [kind, args.qubits, args.layers, batch, args.min_seconds, args.repeats, args.threads]
                rows.append(run_isolated(row, [str(s) for s in settings], source))
                print(json.dumps(rows[-1]), file=sys.stderr)
    record = {"benchmark": "weight binding, standard circuit, forward + backward, complex64",
              "command": " ".join(["python", *sys.argv]), "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": machine_info(), "torch_threads_per_run": args.threads,
              "load_average_1_5_15_min": {"before": load_before, "after": os.getloadavg()}, "results": rows}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(record, indent=2))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
