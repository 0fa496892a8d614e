"""``qvec bench``: benchmarks that print a table and write JSON (``remote``: IonQ strategies vs the emulator)."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["command"]


@click.group("bench")
def command() -> None:
    """Benchmarks: tables on the terminal, JSON under bench/results/."""


def _row(outcome) -> list[str]:
    target = "-" if outcome.target_s is None else f"{outcome.target_s:.2f}"
    gap = "-" if outcome.gap is None else f"{outcome.gap:+.2f}"
    return [outcome.scenario, outcome.strategy, str(outcome.circuits), str(outcome.repeats), f"{outcome.seconds:.2f}", target, gap,
            str(outcome.jobs), str(outcome.requests), str(outcome.fault_answers), str(outcome.duplicate_jobs),
            "yes" if outcome.correct else "NO"]


@command.command("remote")
@click.option("--latency", default=3.0, show_default=True, type=click.FloatRange(min=0.0), help="Seconds per job.")
@click.option("--capacity", default=10, show_default=True, type=click.IntRange(min=1), help="Jobs running at once.")
@click.option("--circuits", default=20, show_default=True, type=click.IntRange(min=1), help="The small batch.")
@click.option("--many", default=2000, show_default=True, type=click.IntRange(min=1), help="The large batch.")
@click.option("--fault-rate", default=0.05, show_default=True, type=click.FloatRange(0.0, 1.0),
              help="Share of requests answered 429 or 503 in the fault scenarios.")
@click.option("--repeats", default=5, show_default=True, type=click.IntRange(min=1),
              help="Runs of each packed fault scenario (the slowest is reported).")
@click.option("--skip-sequential", is_flag=True, help="Leave out the sequential run (latency x circuits seconds).")
@click.option("--output", default="bench/results/remote.json", show_default=True, type=click.Path(dir_okay=False))
def remote(latency: float, capacity: int, circuits: int, many: int, fault_rate: float, repeats: int,
           skip_sequential: bool, output: str) -> None:
    """IonQ strategies against the emulator: sequential, threads(10), concurrent, packed; faults; many circuits."""
    from rich.console import Console
    from rich.table import Table

    from qvec.bench.remote import RemoteBenchmark, default_scenarios, run_benchmark, write_results

    console = Console()
    if not console.is_terminal:
        console.width = 160
    table = Table(title=f"IonQ strategies vs the emulator ({latency:g} s per job, {capacity} jobs at once)")
    for header in ("scenario", "strategy", "circuits", "runs", "seconds", "target", "gap", "jobs", "requests",
                   "429/503", "duplicates", "correct"):
        table.add_column(header, justify="left" if header in ("scenario", "strategy") else "right")
    bench = RemoteBenchmark(latency, capacity)
    scenarios = default_scenarios(circuits, many, fault_rate, sequential=not skip_sequential, repeats=repeats)

    def report(outcome) -> None:
        console.print(f"  {outcome.scenario:<32} {outcome.strategy:<11} {outcome.seconds:7.2f} s", highlight=False)
        table.add_row(*_row(outcome))

    outcomes = run_benchmark(scenarios, bench, report)
    console.print(table)
    write_results(outcomes, bench, Path(output))
    console.print(f"wrote {output}")
