"""Per-phase profile of the client side of one remote training step (issue 9): bind, rotate, compile, decode.

The model of ``bench_remote_step.py`` (8 qubits, angle encoding + ``hardware_efficient(8, 2)``, <Z_q> of
every qubit): ``IonQBackend.expval`` on as many parameter rows as one training step sends (3,104), with
each round's jobs compiled but not sent, and answers decoded from stored exact ones (local simulator
probabilities after a JSON round trip). Submit and wait are not in this script: ``bench_remote_step.py``
measures the whole step against the emulator. Run it with ``PYTHONPATH=<older checkout>/src`` to profile
older code.

    python bench/profile_remote_step.py [--rows 3104] [--repeats 3] [--output bench/results/remote_step_profile.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from qvec.backends import IonQBackend
from qvec.bench.timing import machine_info
from qvec.circuit.binding import bind_rows
from qvec.nn import angle_encoding, hardware_efficient

QUBITS, LAYERS = 8, 2


def template():
    circuit, inputs = angle_encoding(QUBITS)
    circuit, weights = hardware_efficient(QUBITS, LAYERS, circuit=circuit)
    return circuit, inputs + weights


def answers(circuits) -> dict[int, dict[str, float]]:
    """Exact answers of the circuits as the emulator's JSON gives them (decimal keys, nonzero entries)."""
    out = {}
    for index, circuit in enumerate(circuits):
        probs = circuit.probs(dtype=torch.complex128)[0]
        nonzero = probs.nonzero().flatten()
        out[index] = json.loads(json.dumps(dict(zip(map(str, nonzero.tolist()), probs[nonzero].tolist()))))
    return out


class OfflineBackend(IonQBackend):
    """``IonQBackend`` whose rounds compile the job bodies and decode stored answers instead of sending jobs.

    For timing the client's own work only: the answers are those of the first circuits, repeated, so
    the values ``expval`` returns are not the model's and are discarded.
    """

    answers: dict[int, dict[str, float]]
    seconds: dict[str, float]

    def run_circuits(self, circuits, shots=None, *, seed=None):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        units = self._prepare(circuits, None, 29, None)
        middle = time.perf_counter()
        for n, unit in enumerate(units):
            unit.job_id = f"job-{n}"
        answers = {i: self.answers[i % len(self.answers)] for i in range(len(circuits))}
        results = self._results(circuits, units, answers, None, torch.Generator())
        self.seconds["compile_s"] += middle - start
        self.seconds["decode_s"] += time.perf_counter() - middle
        return results


def timed(function, repeats: int) -> tuple[float, float, object]:
    """Best wall and process (CPU) seconds of ``repeats`` calls, and the last value."""
    wall, cpu, value = float("inf"), float("inf"), None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        value = function()
        wall, cpu = min(wall, time.perf_counter() - start), min(cpu, time.process_time() - start_cpu)
    return wall, cpu, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3104)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default=str(Path(__file__).parent / "results" / "remote_step_profile.json"))
    parser.add_argument("--label", default="", help="a name for this run in the JSON (e.g. before/after)")
    args = parser.parse_args()
    torch.manual_seed(0)
    circuit, names = template()
    params = {name: torch.rand(args.rows, dtype=torch.float64) * 3 for name in names}
    observables = [f"Z{q}" for q in range(QUBITS)]
    backend = OfflineBackend(api_key="profile-only", base_url="http://127.0.0.1:9", env_file=None)
    backend.answers = answers(bind_rows(circuit, {n: v[:64] for n, v in params.items()}))
    phases = {}
    phases["bind_rows_s"], phases["bind_rows_cpu_s"], _ = timed(lambda: bind_rows(circuit, params), args.repeats)
    runs = []
    for _ in range(args.repeats):
        backend.seconds = {"compile_s": 0.0, "decode_s": 0.0}
        wall, cpu, _ = timed(lambda: backend.expval(circuit, observables, params), 1)
        runs.append({"expval_total_s": wall, "expval_total_cpu_s": cpu, **backend.seconds,
                     "bind_rotate_values_s": wall - sum(backend.seconds.values())})
    best = min(runs, key=lambda r: r["expval_total_s"])
    phases.update(best)
    result = {"label": args.label, "rows": args.rows, "circuits": args.rows * len(observables) // QUBITS,
              "repeats": args.repeats, "statistic": "bind_rows: best of repeats; expval phases: the fastest expval call",
              "phases": {k: round(v, 4) for k, v in phases.items()},
              "load_average_1_5_15_min": os.getloadavg(),
              "machine": machine_info(), "command": " ".join(["python", *sys.argv]),
              "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    print(args.label, json.dumps(result["phases"]))
    path = Path(args.output)
    previous = json.loads(path.read_text())["runs"] if path.exists() else []
    previous = [r for r in previous if r.get("label") != args.label] + [result]
    path.write_text(json.dumps({"runs": previous}, indent=2) + "\n")


if __name__ == "__main__":
    main()
