"""Benchmark of one remote training step: ``QuantumLayer`` on ``IonQBackend`` against the emulator (issue 9).

The model: angle encoding (RY) of 8 features, then ``hardware_efficient(8, 2)`` (RY, RZ on every
qubit, a CNOT ring; 32 weights), outputs <Z_q> of every qubit, ``diff_method="parameter-shift"``.
A training step on a batch of 32 rows: forward, MSE loss, backward, SGD update. The emulator
(``qvec emulator --latency 3 --admin``, its exact simulator target) runs in its own process, as a
remote service would; its admin counters give the jobs created and the HTTP requests per step, and
a counting subclass of ``IonQBackend`` the rounds of jobs (calls that submit circuits and wait for
them), the circuits they carried and the seconds spent in them (the rest of a step is the client's
own work: binding the shifted rows, rotating them to the measurement basis, the local update).
The first step's gradient is checked against local autograd.

Targets (issue 9): one round of jobs per step, under 5 s per step (the field report's sequential
submission took ~60 s for 20 circuits). Writes JSON to bench/results/remote_step.json.

    python bench/bench_remote_step.py                 # 3 steps, latency 3 s
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import torch

from bench_layer import source_info  # this directory's script
from qvec.backends import IonQBackend
from qvec.bench.remote import EMULATOR_POLL
from qvec.bench.timing import machine_info
from qvec.nn import QuantumLayer, angle_encoding, hardware_efficient

RESULTS = Path(__file__).parent / "results"
QUBITS, LAYERS, BATCH = 8, 2, 32
TARGET_ROUNDS, TARGET_SECONDS = 1, 5.0
PRECISION = "complex128"  # the emulator's simulator and the local reference; the layer asks for complex128 values
STARTUP_TIMEOUT_S = 60


class CountingIonQBackend(IonQBackend):
    """``IonQBackend`` that counts its rounds of jobs (``run_circuits`` calls), the circuits in each and the
    seconds each took (submitting, the emulator's simulation and latency, polling, decoding)."""

    rounds: list[int]
    round_seconds: list[float]

    def run_circuits(self, circuits, shots=None, *, seed=None):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        results = super().run_circuits(circuits, shots, seed=seed)
        self.rounds.append(len(circuits))
        self.round_seconds.append(time.perf_counter() - start)
        return results


class EmulatorProcess:
    """``qvec emulator --port 0 --admin`` in a subprocess (the key passed in its environment, never printed)."""

    def __init__(self, latency: float) -> None:
        self.key = secrets.token_hex(8)
        self.command = [str(Path(sys.executable).parent / "qvec"), "emulator", "--port", "0", "--latency", str(latency), "--admin"]
        self.process: subprocess.Popen | None = None
        self.url = self.base_url = ""

    def __enter__(self) -> "EmulatorProcess":
        env = {**os.environ, "IONQ_API_KEY": self.key, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE, text=True, env=env)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self.base_url:
            line = self.process.stdout.readline()
            if not line or time.monotonic() > deadline:
                raise RuntimeError(f"the emulator did not start (exit {self.process.poll()}): {' '.join(self.command)}")
            if line.startswith("listening on "):
                self.url = line.split()[-1]
            elif line.startswith("IONQ_BASE_URL="):
                self.base_url = line.strip().split("=", 1)[1]
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def counters(self) -> dict[str, Any]:
        answer = httpx.get(f"{self.url}/admin/counters", headers={"Authorization": f"apiKey {self.key}"}, timeout=30)
        answer.raise_for_status()
        return answer.json()


def model(backend: Any) -> QuantumLayer:
    circuit, inputs = angle_encoding(QUBITS)
    circuit, weights = hardware_efficient(QUBITS, LAYERS, circuit=circuit)
    return QuantumLayer(circuit, inputs, weights, [f"Z{q}" for q in range(QUBITS)], backend=backend,
                        diff_method="parameter-shift" if backend is not None else "backprop", seed=0,
                        dtype=torch.complex128)


def gradient_gap(remote: QuantumLayer, x: torch.Tensor, y: torch.Tensor) -> float:
    """Largest |remote gradient - local autograd gradient| of the loss at the remote layer's current weights."""
    local = model(None)
    with torch.no_grad():
        local.weights.copy_(remote.weights)
    torch.nn.functional.mse_loss(local(x), y).backward()
    return float((remote.weights.grad - local.weights.grad).abs().max())


def run(latency: float, steps: int) -> dict:
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(BATCH, QUBITS, generator=generator, dtype=torch.float64) * 3.14
    y = torch.rand(BATCH, QUBITS, generator=generator, dtype=torch.float64) * 2 - 1
    rows = []
    with EmulatorProcess(latency) as emulator:
        backend = CountingIonQBackend(api_key=emulator.key, base_url=emulator.base_url, env_file=None, poll=EMULATOR_POLL,
                                      progress=False, journal=None)
        layer = model(backend)
        optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
        gap = None
        for step in range(steps):
            backend.rounds, backend.round_seconds, before = [], [], emulator.counters()
            start = time.perf_counter()
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(layer(x), y)
            loss.backward()
            if gap is None:  # checked before the update, at the weights the gradient belongs to
                elapsed = time.perf_counter() - start
                gap = gradient_gap(layer, x, y)
                start = time.perf_counter() - elapsed
            optimizer.step()
            seconds = time.perf_counter() - start
            after = emulator.counters()
            rows.append({"step": step, "seconds": round(seconds, 3), "loss": float(loss.detach()),
                         "jobs": after["jobs_created"] - before["jobs_created"],
                         "rounds": len(backend.rounds), "circuits_per_round": list(backend.rounds),
                         "seconds_in_rounds": round(sum(backend.round_seconds), 3),
                         "http_requests": sum(after["requests_per_status"].values())
                         - sum(before["requests_per_status"].values()) - 1})  # less the counters read itself
    return {"steps": rows, "max_gradient_gap_vs_local_autograd": gap}


def print_table(record: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"remote training step: {QUBITS} qubits, {LAYERS} layers, B = {BATCH}, parameter shift, "
                        f"emulator latency {record['latency_s']} s",
                  caption=f"targets: {TARGET_ROUNDS} round of jobs, < {TARGET_SECONDS} s per step")
    for column in ("step", "seconds", "in rounds", "jobs", "rounds", "circuits", "HTTP requests", "loss"):
        table.add_column(column, justify="right")
    for r in record["steps"]:
        table.add_row(str(r["step"]), f"{r['seconds']:.2f}", f"{r['seconds_in_rounds']:.2f}", str(r["jobs"]), str(r["rounds"]),
                      ", ".join(map(str, r["circuits_per_round"])), str(r["http_requests"]), f"{r['loss']:.4f}")
    Console(width=140).print(table)
    print(f"largest |gradient - local autograd| at step 0: {record['max_gradient_gap_vs_local_autograd']:.2e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=3.0, help="emulator seconds per job")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--output", type=Path, default=RESULTS / "remote_step.json")
    args = parser.parse_args()
    load_before = os.getloadavg()
    result = run(args.latency, args.steps)
    record = {"benchmark": "remote training step, QuantumLayer on IonQBackend (emulator)",
              "command": " ".join(["python", *sys.argv]), "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": machine_info(), "source": source_info(),
              "load_average_1_5_15_min": {"before": load_before, "after": os.getloadavg()},
              "latency_s": args.latency, "model": {"qubits": QUBITS, "layers": LAYERS, "batch": BATCH,
                                                   "template": "angle_encoding + hardware_efficient (ry, rz, ring)",
                                                   "diff_method": "parameter-shift"},
              "precision": {"emulator and local reference": PRECISION},
              "targets": {"rounds_per_step": TARGET_ROUNDS, "seconds_per_step_below": TARGET_SECONDS}, **result}
    print_table(record)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(record, indent=2))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
