"""Load benchmark: several client processes run thousands of circuits against one emulator process.

Each client runs one batch through ``IonQBackend`` (6-qubit hardware-efficient ansatz, exact
probabilities) while the emulator injects seeded 429/5xx answers; every row is checked against the
local engine, the emulator's admin counters prove that no job was created twice, and its resident
memory, threads and open files are read before and after. Throughput is recorded, never asserted.

    python bench/bench_load.py                                  # 4 clients x 1000 circuits, packed and concurrent
    python bench/bench_load.py --clients 8 --circuits 500 --strategy packed
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from qvec.bench.load import LoadSetting, run_load, write_record

OUTPUT = Path(__file__).parent / "results" / "load.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--circuits", type=int, default=1000, help="circuits per client")
    parser.add_argument("--strategy", action="append", help="repeatable; default: packed, then concurrent")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    runs = []
    for strategy in args.strategy or ["packed", "concurrent"]:
        with tempfile.TemporaryDirectory() as workdir:
            record = run_load(LoadSetting(clients=args.clients, circuits=args.circuits, strategy=strategy), Path(workdir))
        runs.append(record)
        print(summary(record))
        write_record({"benchmark": "load", "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                      "machine": {"python": platform.python_version(), "platform": platform.platform(),
                                  "cpus": os.cpu_count(), "load_average": os.getloadavg()},
                      "runs": runs}, args.output)


def summary(record: dict) -> str:
    """One line: throughput, jobs, requests, retries, invariants, the emulator's figures before -> after."""
    before, after = record["emulator_before"], record["emulator_after"]
    errors = [c["error"] for c in record["clients"] if "error" in c]
    return (f"{record['setting']['strategy']:>10}: {record['circuits']} circuits in {record['seconds']:.1f} s "
            f"({record['circuits_per_second']} /s), {record['jobs_created']} jobs, {record['requests']} requests, "
            f"{record['retries']} retried; invariants {record['invariants']}; emulator RSS "
            f"{before['rss_bytes'] / 2**20:.0f} -> {after['rss_bytes'] / 2**20:.0f} MiB, threads {before['threads']} -> "
            f"{after['threads']}, fds {before['fds']} -> {after['fds']}" + (f"; client errors: {errors}" if errors else ""))

if __name__ == "__main__":
    main()
