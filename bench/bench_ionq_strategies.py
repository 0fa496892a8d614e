"""The per-circuit IonQ strategies (``threads``, ``concurrent``) and ``packed`` on one batch, against an emulator
in its own process: wall time and the client's CPU time per run.

    python bench/bench_ionq_strategies.py --circuits 300 --latency 0 0.5 --repeats 3 \\
        [--source OLD_CHECKOUT/src] --output bench/results/ionq_strategies.json

Each run is a fresh process (imports excluded from the times), so that ``--source`` can time another
checkout's code (``git worktree add /tmp/old COMMIT``) on the same emulator in the same minutes. The
request budget is raised far above the default (20 requests/s, which bounds both per-circuit strategies
on the real service) so that the client's own cost is what is measured. The journal is off (``QVEC_JOURNAL=off``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

KEY = "bench-key"
WORKER = """
import json, sys, time
import qvec
from qvec.backends import IonQBackend
from qvec.backends.ionq import PollPolicy, RateLimit
url, n, strategy = sys.argv[1], int(sys.argv[2]), sys.argv[3]
circuits = [qvec.Circuit(2).ry(0, 0.01 * i).cx(0, 1) for i in range(n)]
backend = IonQBackend(api_key=%r, base_url=url, env_file=None, strategy=strategy, progress=False,
                      poll=PollPolicy(initial=0.01, factor=1.5, maximum=0.1),
                      rate_limit=RateLimit(per_second=100000.0, burst=100000), journal=None)
cpu, wall = time.process_time(), time.perf_counter()
results = backend.run_circuits(circuits)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
assert len(results) == n
print(json.dumps({"seconds": round(wall, 3), "client_cpu_s": round(cpu, 3)}))
""" % KEY


def start_emulator(latency: float) -> tuple[subprocess.Popen, str]:
    """``qvec emulator`` in its own process; its base URL from the first line it prints."""
    command = [sys.executable, "-c", "from qvec.cli import main; main()", "emulator"]
    process = subprocess.Popen([*command, "--api-key", KEY, "--port", "0",
                                "--capacity", "64", "--latency", str(latency)], stdout=subprocess.PIPE, text=True)
    first = process.stdout.readline().strip()
    if not first.startswith("listening on "):
        process.kill()
        raise SystemExit(f"the emulator did not start: {first!r}")
    return process, first.removeprefix("listening on ") + "/v0.4"


def run_once(url: str, circuits: int, strategy: str, source: str | None) -> dict[str, float]:
    env = {**os.environ, "QVEC_JOURNAL": "off"}
    if source:
        env["PYTHONPATH"] = source
    answer = subprocess.run([sys.executable, "-c", WORKER, url, str(circuits), strategy], env=env, check=True,
                            capture_output=True, text=True)
    return json.loads(answer.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--circuits", type=int, default=300)
    parser.add_argument("--latency", type=float, nargs="+", default=[0.0, 0.5])
    parser.add_argument("--strategies", nargs="+", default=["threads:10", "concurrent", "packed"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--source", action="append", default=[], help="another checkout's src/ to time too")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    sources = [None, *args.source]
    rows: list[dict] = []
    for latency in args.latency:
        emulator, url = start_emulator(latency)
        try:
            for repeat in range(args.repeats):  # interleaved, so that load changes hit every variant alike
                for source in sources:
                    for strategy in args.strategies:
                        row = {"latency": latency, "strategy": strategy, "code": source or "this checkout",
                               "repeat": repeat, "load_average": os.getloadavg()[0],
                               **run_once(url, args.circuits, strategy, source)}
                        print(json.dumps(row), flush=True)
                        rows.append(row)
                        if args.output:  # after every run: a run stopped early keeps what it measured
                            write(args.output, args.circuits, rows)
        finally:
            emulator.terminate()
            emulator.wait()


def write(path: Path, circuits: int, rows: list[dict]) -> None:
    machine = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}
    path.write_text(json.dumps({"benchmark": "ionq_strategies", "circuits": circuits,
                                "when": time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime()), "machine": machine,
                                "runs": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
