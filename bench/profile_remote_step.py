"""Per-phase profile of the client side of one remote training step (issue 9): bind, rotate, compile, decode.

The model of ``bench_remote_step.py`` (8 qubits, angle encoding + ``hardware_efficient(8, 2)``, batch 32,
parameter shift: 32 rows x (1 + 2 x 40 shifted values) = 2,592 rows plus the forward's 32) is bound and
compiled as ``IonQBackend.expval`` does, and decoded from the exact answers the emulator would return
(local simulator probabilities, as a JSON round trip gives them). Submit and wait are not in this
script: ``bench_remote_step.py`` measures the whole step against the emulator.

    python bench/profile_remote_step.py [--rows 3104] [--repeats 3] [--output bench/results/remote_step_profile.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from qvec.backends import IonQBackend
from qvec.backends.ionq.runner import JobUnit
from qvec.bench.timing import machine_info
from qvec.circuit.bases import measurement_groups, rotated_to_basis
from qvec.circuit.binding import bind_rows
from qvec.circuit import expand_observables
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


def timed(function, repeats: int):
    best, value = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        best = min(best, time.perf_counter() - start)
    return best, value


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
    backend = IonQBackend(api_key="profile-only", base_url="http://127.0.0.1:9", strategy=None, env_file=None)
    phases = {}
    phases["bind_s"], bound = timed(lambda: bind_rows(circuit, params), args.repeats)
    groups = measurement_groups(list(expand_observables(observables, QUBITS).strings))
    phases["rotate_s"], rotated = timed(lambda: [rotated_to_basis(c, b) for b, _ in groups for c in bound], args.repeats)
    phases["compile_s"], units = timed(lambda: backend._prepare(rotated, None, 29, None), args.repeats)
    raw = answers(rotated[: min(len(rotated), 64)])
    raw = {i: raw[i % len(raw)] for i in range(len(rotated))}  # the answers repeat: decoding cost is what counts
    numbered = [JobUnit(u.circuits, u.body) for u in units]
    for n, unit in enumerate(numbered):
        unit.job_id = f"job-{n}"
    phases["decode_s"], _ = timed(lambda: backend._decode(rotated, numbered, raw), args.repeats)
    phases["total_client_s"] = sum(phases.values())
    result = {"label": args.label, "rows": args.rows, "circuits": len(rotated), "jobs": len(units),
              "repeats": args.repeats, "statistic": "best of repeats", "phases": {k: round(v, 4) for k, v in phases.items()},
              "machine": machine_info(), "command": " ".join([Path(sys.executable).name, *sys.argv]),
              "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    print(json.dumps(result["phases"]), f"jobs={len(units)} circuits={len(rotated)}")
    path = Path(args.output)
    runs = json.loads(path.read_text())["runs"] if path.exists() else []
    runs = [r for r in runs if r.get("label") != args.label] + [result]
    path.write_text(json.dumps({"runs": runs}, indent=2) + "\n")


if __name__ == "__main__":
    main()
