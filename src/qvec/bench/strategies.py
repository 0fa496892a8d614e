"""``qvec bench strategies``: the photonic-GAN field report's experiment, rerun on qvec's engines.

The report ran its generator circuit one sample at a time and tried to speed that up with a thread pool
(no gain), a process pool (6.6x slower, worker start-up and imports included) and batching (~60x faster).
Here each strategy executes the same seeded layer (forward, no gradients) on the same B input rows:

- ``sequential``: one call per row, in a loop;
- ``threads:K``: one call per row, on a pool of K threads (created inside the timed call);
- ``processes:K``: one call per row, on a pool of K fresh ``spawn`` processes, created inside the timed call,
  so the workers' interpreter start-up and imports of torch and qvec count, as they did in the report;
- ``batch``: one vectorized call for all B rows.

Every strategy's outputs are compared with the batch's, so a figure is only kept for a correct result.
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from qvec.errors import InputError

from .timing import window_rate
from .workloads import Workload

__all__ = ["REPORT_CLAIMS", "StrategyResult", "default_strategies", "measure_strategy", "run_benchmark", "run_strategy",
           "speedups", "table", "verdicts"]

# The field report's figures, each judged against ours by ``verdicts``.
REPORT_THREADS_NO_GAIN = 1.25  # "no gain": no thread count above this speed-up over sequential, at any B
REPORT_PROCESSES_SLOWER = 6.6  # processes were 6.6x slower than sequential
REPORT_BATCH_SPEEDUP = 60.0  # batching was ~60x faster; confirmed at half of it or more, at the largest B
REPORT_CLAIMS = {
    "threads": "a thread pool gives no gain over the sequential loop",
    "processes": f"a process pool is {REPORT_PROCESSES_SLOWER:g}x slower than the sequential loop",
    "batch": f"batching is ~{REPORT_BATCH_SPEEDUP:g}x faster than the sequential loop",
}

_worker_layer: nn.Module | None = None


def _start_worker(workload: Workload) -> None:
    """Process-pool initializer: build the seeded layer once per worker (its imports are part of the cost)."""
    global _worker_layer
    torch.set_num_threads(1)  # K workers share the cores; one torch thread each keeps them from oversubscribing
    _worker_layer = workload.layer()


def _worker_row(row: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return _worker_layer(row[None])


def default_strategies(threads: tuple[int, ...] = (2, 4), processes: int = 2) -> list[str]:
    return ["sequential", *(f"threads:{k}" for k in threads), f"processes:{processes}", "batch"]


def _pool_size(strategy: str) -> int:
    kind, _, size = strategy.partition(":")
    if kind not in ("threads", "processes") or not size.isdigit() or int(size) < 1:
        raise InputError(f"strategy must be sequential, threads:K, processes:K or batch, got {strategy!r}")
    return int(size)


def run_strategy(strategy: str, layer: nn.Module, workload: Workload, x: torch.Tensor) -> torch.Tensor:
    """The layer's outputs ``[B, outputs]`` for the rows of ``x``, executed as ``strategy`` says."""
    with torch.no_grad():
        if strategy == "batch":
            return layer(x)
        if strategy == "sequential":
            return torch.cat([layer(row[None]) for row in x])
        size = _pool_size(strategy)
        if strategy.startswith("threads"):
            with ThreadPoolExecutor(size) as pool:
                return torch.cat(list(pool.map(lambda row: layer(row[None]), x)))
        with ProcessPoolExecutor(size, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker,
                                 initargs=(workload,)) as pool:
            return torch.cat(list(pool.map(_worker_row, x)))


@dataclass(frozen=True)
class StrategyResult:
    """Samples/s of one strategy at one B (median, min, max over repeats) and its largest gap to the batch."""

    workload: str
    strategy: str
    batch: int
    samples_per_s: float
    min: float
    max: float
    max_abs_diff_vs_batch: float


def _rates(call: Callable[[], torch.Tensor], batch: int, min_seconds: float, repeats: int) -> list[float]:
    """Samples/s of ``repeats`` runs, each calling ``call`` until ``min_seconds`` have passed."""
    return sorted(window_rate(call, batch, min_seconds) for _ in range(repeats))


def measure_strategy(strategy: str, layer: nn.Module, workload: Workload, x: torch.Tensor, reference: torch.Tensor,
                     min_seconds: float, repeats: int) -> StrategyResult:
    """Time ``strategy`` on the rows of ``x``. In-process strategies get one untimed warm-up call, then ``repeats``
    runs of at least ``min_seconds``; the process pool gets ``repeats`` single calls, each starting its pool."""
    call = lambda: run_strategy(strategy, layer, workload, x)  # noqa: E731
    if strategy.startswith("processes"):
        rates = []
        for _ in range(repeats):
            start = time.perf_counter()
            outputs = call()
            rates.append(len(x) / (time.perf_counter() - start))
        rates.sort()
    else:
        outputs = call()
        rates = _rates(call, len(x), min_seconds, repeats)
    gap = float((outputs - reference).abs().max())
    return StrategyResult(workload.kind, strategy, len(x), rates[len(rates) // 2], rates[0], rates[-1], gap)


def speedups(results: list[StrategyResult]) -> dict[tuple[str, str, int], float]:
    """Each result's samples/s over the sequential loop's, for the same workload and B."""
    sequential = {(r.workload, r.batch): r.samples_per_s for r in results if r.strategy == "sequential"}
    return {(r.workload, r.strategy, r.batch): r.samples_per_s / sequential[(r.workload, r.batch)]
            for r in results if (r.workload, r.batch) in sequential}


def verdicts(results: list[StrategyResult]) -> list[dict]:
    """Each of the report's claims, per workload, against our speed-ups: the figures and confirmed or refuted."""
    ratio = speedups(results)
    out = []
    for workload in dict.fromkeys(r.workload for r in results):
        mine = {key: value for key, value in ratio.items() if key[0] == workload}
        threads = [v for (_, s, _), v in mine.items() if s.startswith("threads")]
        processes = [v for (_, s, _), v in mine.items() if s.startswith("processes")]
        batch = {b: v for (_, s, b), v in mine.items() if s == "batch"}
        if threads:
            out.append(_verdict(workload, "threads", max(threads) <= REPORT_THREADS_NO_GAIN,
                                f"thread-pool speed-up {min(threads):.2f}x-{max(threads):.2f}x over all B "
                                f"(no gain: <= {REPORT_THREADS_NO_GAIN}x)"))
        if processes:
            out.append(_verdict(workload, "processes", max(processes) < 1,
                                f"process-pool speed-up {min(processes):.3f}x-{max(processes):.3f}x over all B, i.e. "
                                f"{1 / max(processes):.1f}x-{1 / min(processes):.1f}x slower (report: "
                                f"{1 / REPORT_PROCESSES_SLOWER:.3f}x; confirmed when below 1x at every B)"))
        if batch:
            largest = max(batch)
            out.append(_verdict(workload, "batch", batch[largest] >= REPORT_BATCH_SPEEDUP / 2,
                                f"batch {batch[largest]:.0f}x faster at B = {largest} (report: ~{REPORT_BATCH_SPEEDUP:g}x; "
                                f"confirmed at >= {REPORT_BATCH_SPEEDUP / 2:g}x)"))
    return out


def _verdict(workload: str, claim: str, holds: bool, figures: str) -> dict:
    return {"workload": workload, "claim": REPORT_CLAIMS[claim], "ours": figures,
            "verdict": "confirmed" if holds else "refuted"}


def run_benchmark(workloads: list[Workload], batches: list[int], strategies: list[str], min_seconds: float,
                  repeats: int, process_runs: int,
                  report: Callable[[StrategyResult], None] = lambda result: None) -> list[StrategyResult]:
    """Every strategy on every workload at every B; each B's rows are the same for all strategies."""
    results = []
    for workload in workloads:
        layer = workload.layer()
        for batch in batches:
            x = workload.inputs(batch)
            reference = run_strategy("batch", layer, workload, x)
            for strategy in strategies:
                runs = process_runs if strategy.startswith("processes") else repeats
                results.append(measure_strategy(strategy, layer, workload, x, reference, min_seconds, runs))
                report(results[-1])
    return results


def table(results: list[StrategyResult], strategies: list[str], title: str):
    """A rich table: per workload and B, each strategy's samples/s and its speed-up over the sequential loop."""
    from rich.table import Table

    ratio = speedups(results)
    rate = {(r.workload, r.strategy, r.batch): r.samples_per_s for r in results}
    grid = Table(title=title, caption="samples/s (speed-up over sequential)")
    for header in ("workload", "B", *strategies):
        grid.add_column(header, justify="left" if header == "workload" else "right")
    for workload, batch in dict.fromkeys((r.workload, r.batch) for r in results):
        cells = [f"{rate[key]:,.1f} ({ratio[key]:.2f}x)" if key in rate else "-"
                 for key in ((workload, s, batch) for s in strategies)]
        grid.add_row(workload, str(batch), *cells)
    return grid
