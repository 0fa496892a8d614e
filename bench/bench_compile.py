"""Cost of the first call (compile included) against a repeated call, for a CNOT ladder.

The circuit is H on qubit 0 then cx(i, i + 1) down the register, one parameter row. The first
call compiles the circuit's program; the second reuses it, so their difference is the compile
cost. Each size runs in a fresh process, so no cache from another size helps. Writes
bench/results/compile.json (or --output).

    python bench/bench_compile.py                  # 22 and 24 qubits
    python bench/bench_compile.py --qubits 16 20 --output /tmp/compile.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from qvec.bench.timing import machine_info

RESULTS = Path(__file__).parent / "results"

_CHILD = """
import json, sys, time
import torch, qvec
n = int(sys.argv[1])
circuit = qvec.Circuit(n)
circuit.h(0)
for qubit in range(n - 1):
    circuit.cx(qubit, qubit + 1)
times = []
for _ in range(2):
    start = time.perf_counter()
    probs = circuit.probs()
    times.append(time.perf_counter() - start)
assert abs(float(probs[0, 0]) - 0.5) < 1e-6 and abs(float(probs[0, -1]) - 0.5) < 1e-6, "wrong GHZ state"
print(json.dumps({"n_qubits": n, "first_call_s": times[0], "second_call_s": times[1]}))
"""


def run_size(n_qubits: int) -> dict:
    """Time the first and second call at ``n_qubits`` in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", _CHILD, str(n_qubits)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qubits", type=int, nargs="+", default=[22, 24])
    parser.add_argument("--output", type=Path, default=RESULTS / "compile.json")
    args = parser.parse_args()
    rows = []
    print(f"{'qubits':>6} {'first call (s)':>15} {'second call (s)':>16}")
    for n_qubits in args.qubits:
        row = run_size(n_qubits)
        rows.append(row)
        print(f"{n_qubits:>6} {row['first_call_s']:>15.3f} {row['second_call_s']:>16.3f}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    record = {"benchmark": "compile", "circuit": "h(0) then a cx ladder", "batch": 1, "dtype": "complex64",
              "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine_info(),
              "results": rows}
    args.output.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
