"""The emulator under load: several client processes run thousands of circuits against one emulator.

The emulator runs in its own process (``qvec emulator --admin``, seeded 429/5xx faults); each client
process runs its share through ``IonQBackend`` and checks every row against the local engine (no
loss, right order). The emulator's admin counters prove no job was created twice and give the
retries (the fault answers the clients had to repeat); its resident memory, threads and open
files are read before the clients start and after they finish.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import secrets
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

__all__ = ["LoadSetting", "EmulatorProcess", "run_load", "process_figures", "write_record"]

_ADMIN_TIMEOUT_S = 60.0
_ERROR_CHARS = 600
_CLIENT_TIMEOUT_S = 1800.0  # a guard against a hung client, never a speed check
_FAULT_STATUSES = ("429", "502", "503", "504", *(str(s) for s in range(520, 530)), "dropped")


@dataclass(frozen=True)
class LoadSetting:
    """``clients`` processes, each running ``circuits`` circuits (one batch) with ``strategy``."""

    clients: int = 4
    circuits: int = 1000
    qubits: int = 6
    strategy: str = "packed"
    error_rate: float = 0.03
    rate_limit_rate: float = 0.02
    latency: float = 0.05
    capacity: int = 10
    seed: int = 0


def process_figures(pid: int) -> dict[str, int]:
    """Resident memory (bytes), threads and open file descriptors of process ``pid`` (psutil, else Linux's /proc)."""
    try:
        import psutil
    except ImportError:
        status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
        return {"rss_bytes": int(status["VmRSS"].split()[0]) * 1024, "threads": int(status["Threads"]),
                "fds": len(os.listdir(f"/proc/{pid}/fd"))}
    process = psutil.Process(pid)
    with process.oneshot():
        return {"rss_bytes": process.memory_info().rss, "threads": process.num_threads(), "fds": process.num_fds()}


class EmulatorProcess:
    """``qvec emulator --port 0 --admin`` with seeded faults in a subprocess; its key stays in its environment."""

    def __init__(self, setting: LoadSetting) -> None:
        self.key = secrets.token_hex(16)
        self.command = [sys.executable, "-c", "from qvec.cli.emulator import command; command(prog_name='qvec emulator')",
                        "--port", "0", "--admin", "--latency", str(setting.latency), "--capacity", str(setting.capacity),
                        "--error-rate", str(setting.error_rate), "--rate-limit-rate", str(setting.rate_limit_rate),
                        "--retry-after", "0.05", "--fault-seed", str(setting.seed)]
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> EmulatorProcess:
        self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE, text=True,
                                        env={**os.environ, "IONQ_API_KEY": self.key})
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line.startswith("listening on "):
            self.__exit__()
            raise RuntimeError(f"the emulator did not start (exit {self.process.poll()})")
        self.url = line.removeprefix("listening on ").strip()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=_ADMIN_TIMEOUT_S)

    @property
    def base_url(self) -> str:
        return self.url + "/v0.4"

    def counters(self) -> dict[str, Any]:
        answer = httpx.get(f"{self.url}/admin/counters", headers={"Authorization": f"apiKey {self.key}"},
                           timeout=_ADMIN_TIMEOUT_S)
        answer.raise_for_status()
        return answer.json()

    def figures(self) -> dict[str, int]:
        assert self.process is not None
        return process_figures(self.process.pid)


def _client(index: int, setting: LoadSetting, base_url: str, key: str, journal: str, start: Any, results: Any) -> None:
    """One client process: its batch through ``IonQBackend`` once every client is ready, each row checked
    against the local engine; puts its record on ``results``."""
    import torch

    from qvec import sim
    from qvec.backends.ionq import IonQBackend
    from qvec.bench.remote import EMULATOR_POLL
    from qvec.errors import QvecError
    from qvec.nn.templates import hardware_efficient

    circuit, names = hardware_efficient(setting.qubits, 2)
    generator = torch.Generator().manual_seed(setting.seed * 1000 + index)
    params = {name: torch.rand(setting.circuits, generator=generator, dtype=torch.float64) * 6.28 for name in names}
    backend = IonQBackend(api_key=key, base_url=base_url, strategy=setting.strategy, env_file=None, progress=False,
                          poll=EMULATOR_POLL, journal=journal)
    start.wait()
    began = time.time()
    try:
        remote = backend.probs(circuit, params, dtype=torch.complex128)
    except QvecError as exc:  # recorded, with what completed: a failed batch is a finding, not a crash
        completed = len(getattr(exc, "completed", {}))
        results.put({"client": index, "circuits": completed, "began": began, "ended": time.time(),
                     "seconds": round(time.time() - began, 3), "max_abs_error": None, "exact": False,
                     "error": f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS]})
        return
    ended = time.time()
    local = sim.probs(circuit, params, dtype=torch.complex128).to(remote.dtype)
    error = float((remote - local).abs().max())
    results.put({"client": index, "circuits": int(remote.shape[0]), "began": began, "ended": ended,
                 "seconds": round(ended - began, 3), "max_abs_error": error,
                 "exact": remote.shape == local.shape and error <= 1e-9})


def _run_clients(setting: LoadSetting, emulator: EmulatorProcess, workdir: Path) -> list[dict[str, Any]]:
    """Start the client processes, release them together, and collect their records (by client index)."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(setting.clients), context.Queue()
    processes = [context.Process(target=_client, args=(i, setting, emulator.base_url, emulator.key,
                                                       str(workdir / f"journal-{i}.sqlite"), start, results))
                 for i in range(setting.clients)]
    for process in processes:
        process.start()
    records = []
    for _ in processes:
        records.append(results.get(timeout=_CLIENT_TIMEOUT_S))
    for process in processes:
        process.join(_ADMIN_TIMEOUT_S)
    failed = [p.exitcode for p in processes if p.exitcode != 0]
    if failed:
        raise RuntimeError(f"client processes exited with {failed}")
    return sorted(records, key=lambda r: r["client"])


def _fault_answers(counters: dict[str, Any]) -> int:
    return sum(n for status, n in counters["requests_per_status"].items() if status in _FAULT_STATUSES)


def run_load(setting: LoadSetting, workdir: Path) -> dict[str, Any]:
    """Run the clients at once against one emulator; the record of what was measured and checked.

    Throughput counts from the first client's start to the last one's end (process start-up left out).
    """
    with EmulatorProcess(setting) as emulator:
        before = emulator.figures()
        clients = _run_clients(setting, emulator, workdir)
        counters = emulator.counters()
        after = emulator.figures()
    total = sum(c["circuits"] for c in clients)
    window = max(c["ended"] for c in clients) - min(c["began"] for c in clients)
    per_key = counters["jobs_per_key"].values()
    return {
        "setting": asdict(setting),
        "circuits": total, "seconds": round(window, 3), "circuits_per_second": round(total / window, 1),
        "jobs_created": counters["jobs_created"], "requests": sum(counters["requests_per_status"].values()),
        "retries": _fault_answers(counters), "requests_per_status": counters["requests_per_status"],
        "invariants": {
            "no_loss_and_in_order": all(c["exact"] for c in clients) and total == setting.clients * setting.circuits,
            "no_duplicate_job": all(n == 1 for n in per_key) and len(per_key) == counters["jobs_created"],
        },
        "emulator_before": before, "emulator_after": after,
        "clients": [{k: v for k, v in c.items() if k not in ("began", "ended")} for c in clients],
    }


def write_record(record: dict[str, Any], path: Path) -> None:
    """Write one or more runs' records as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")
