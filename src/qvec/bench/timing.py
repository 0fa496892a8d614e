"""Shared measuring for the step benchmarks: samples per second in timed windows, peak memory, the machine.

``run_isolated`` runs one configuration in a fresh process; ``qvec.bench.workers`` keeps one process per
engine and measures them in interleaved rounds.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from typing import Callable

import torch

__all__ = ["machine_info", "measure_step", "peak_rss_kib", "run_isolated", "summary", "window_rate"]


def window_rate(step: Callable[[], None], batch: int, min_seconds: float) -> float:
    """Samples/s of one window: ``step`` run until at least ``min_seconds`` have passed."""
    count, start = 0, time.perf_counter()
    while True:
        step()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return count * batch / elapsed


def summary(rates: list[float]) -> dict:
    """The median, min and max of the windows' samples/s."""
    rates = sorted(rates)
    return {"samples_per_s": rates[len(rates) // 2], "min": rates[0], "max": rates[-1]}


def peak_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure_step(step: Callable[[], None], batch: int, min_seconds: float, repeats: int) -> dict:
    """Median, min and max samples/s over ``repeats`` runs of at least ``min_seconds`` (after one warm-up step),
    and the growth of this process's peak resident memory while measuring, in MiB."""
    baseline = peak_rss_kib()
    step()
    rates = [window_rate(step, batch, min_seconds) for _ in range(repeats)]
    return {**summary(rates), "peak_rss_mib": round((peak_rss_kib() - baseline) / 1024, 1)}


def machine_info() -> dict:
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "torch": torch.__version__, "threads": torch.get_num_threads(), "python": platform.python_version()}


def run_isolated(script: str, row: dict, arguments: list[str], timeout_s: float) -> dict:
    """Run ``script --one ARGUMENTS`` in a fresh process (its own peak memory, no warm caches): the JSON of
    its last stdout line, or ``row`` with the error."""
    command = [sys.executable, script, "--one", *arguments]
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return {**row, "error": f"timed out after {timeout_s} s"}
    if completed.returncode != 0:
        return {**row, "error": (completed.stderr.strip().splitlines() or [f"exit {completed.returncode}"])[-1]}
    return json.loads(completed.stdout.strip().splitlines()[-1])
