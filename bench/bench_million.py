"""One million parameter rows through the qubit engine: the chunked path under a memory budget.

n = 10 qubits, RY(x_q) per row, two layers of RX (shared weights) and a CNOT ring, <Z_q> of every
qubit, no gradient. Prints the wall time, the chunk size and the peak RSS; writes JSON.

    python bench/bench_million.py                  # -> bench/results/million.json
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

import qvec
from qvec.bench.timing import machine_info

RESULTS = Path(__file__).parent / "results"


def circuit(n_qubits: int) -> qvec.Circuit:
    c = qvec.Circuit(n_qubits)
    for q in range(n_qubits):
        c.ry(q, f"x{q}")
    for layer in range(2):
        for q in range(n_qubits):
            c.rx(q, f"w{layer}_{q}")
        for q in range(n_qubits):
            c.cx(q, (q + 1) % n_qubits)
    return c


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qubits", type=int, default=10)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--output", type=Path, default=RESULTS / "million.json")
    args = parser.parse_args()
    c = circuit(args.qubits)
    params = {f"x{q}": torch.rand(args.rows, generator=torch.Generator().manual_seed(q)) for q in range(args.qubits)}
    params.update({f"w{layer}_{q}": 0.1 * (layer + q) for layer in range(2) for q in range(args.qubits)})
    with torch.no_grad():
        chunk_rows = qvec.sim.prepare(c, params).chunk_rows
        start = time.perf_counter()
        values = c.expval([f"Z{q}" for q in range(args.qubits)], params)
        seconds = time.perf_counter() - start
    record = {"benchmark": "one million rows", "command": "python bench/bench_million.py", "qubits": args.qubits,
              "rows": args.rows, "chunk_rows": chunk_rows, "seconds": round(seconds, 2),
              "rows_per_s": round(args.rows / seconds), "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
              "output_shape": list(values.shape), "all_finite": bool(torch.isfinite(values).all()),
              "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine_info()}
    print(json.dumps(record, indent=2))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
