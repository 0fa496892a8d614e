"""``qvec bench``: benchmarks that print a table and write JSON (and a PNG with ``--plot``).

``strategies``: sequential, threads, processes and batching on the local engines (the GAN report);
``remote``: IonQ strategies against the emulator (the IonQ report); ``qubit`` and ``cv``: the engines
against their peers.
"""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["command"]


@click.group("bench")
def command() -> None:
    """Benchmarks: tables on the terminal, JSON under bench/results/."""


def _console():
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console.width = 160
    return console


def _int_list(context: click.Context, parameter: click.Parameter, value: str) -> list[int]:
    """A comma-separated list of positive integers (``1,2,4``)."""
    try:
        numbers = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers, got {value!r}") from None
    if not numbers or min(numbers) < 1:
        raise click.BadParameter(f"expected positive integers, got {value!r}")
    return numbers


def _torch_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


TORCH_THREADS_HELP = ("torch threads in the measuring process (1 by default: on a shared, loaded machine a second "
                      "OpenMP thread waits for its core, and small operations take milliseconds)")


@command.command("strategies")
@click.option("--workload", type=click.Choice(["both", "qubit", "photonic"]), default="both", show_default=True)
@click.option("--batches", default="1,2,4,8,16,32,64", show_default=True, callback=_int_list, help="Batch sizes B.")
@click.option("--thread-pools", default="2,4", show_default=True, callback=_int_list, help="Thread-pool sizes.")
@click.option("--processes", default=2, show_default=True, type=click.IntRange(min=1), help="Process-pool size.")
@click.option("--qubits", default=8, show_default=True, type=click.IntRange(min=1))
@click.option("--qubit-layers", default=4, show_default=True, type=click.IntRange(min=1))
@click.option("--modes", default=2, show_default=True, type=click.IntRange(min=1))
@click.option("--cutoff", default=8, show_default=True, type=click.IntRange(min=2))
@click.option("--cv-layers", default=2, show_default=True, type=click.IntRange(min=1))
@click.option("--min-seconds", default=0.2, show_default=True, type=click.FloatRange(min=0.0),
              help="Least time of one timed run of an in-process strategy.")
@click.option("--repeats", default=3, show_default=True, type=click.IntRange(min=1),
              help="Timed runs of each in-process strategy (median reported).")
@click.option("--process-runs", default=1, show_default=True, type=click.IntRange(min=1),
              help="Timed runs of the process pool (each starts its pool: seconds each).")
@click.option("--torch-threads", default=1, show_default=True, type=click.IntRange(min=1), help=TORCH_THREADS_HELP)
@click.option("--output", default="bench/results/strategies.json", show_default=True, type=click.Path(dir_okay=False))
@click.option("--plot", default=None, type=click.Path(dir_okay=False), help="Write a PNG plot here.")
def strategies(workload: str, batches: list[int], thread_pools: list[int], processes: int, qubits: int,
               qubit_layers: int, modes: int, cutoff: int, cv_layers: int, min_seconds: float, repeats: int,
               process_runs: int, torch_threads: int, output: str, plot: str | None) -> None:
    """Sequential loop, thread pools, a process pool and the batch on the GAN generator and the qubit circuit."""
    from dataclasses import asdict

    from qvec.bench import strategies as bench
    from qvec.bench.record import LoadWatch, command_line, write_record
    from qvec.bench.workloads import gan_workload, qubit_workload

    load, line, console = LoadWatch(), command_line(click.get_current_context()), _console()
    _torch_threads(torch_threads)
    chosen = {"qubit": [qubit_workload(qubits, qubit_layers)], "photonic": [gan_workload(modes, cutoff, cv_layers)]}
    workloads = chosen["photonic"] + chosen["qubit"] if workload == "both" else chosen[workload]
    names = bench.default_strategies(tuple(thread_pools), processes)
    results = bench.run_benchmark(workloads, batches, names, min_seconds, repeats, process_runs, lambda r: console.print(
        f"  {r.workload:<9} B = {r.batch:<4} {r.strategy:<12} {r.samples_per_s:10,.1f} samples/s", highlight=False))
    console.print(bench.table(results, names, "Execution strategies (forward, no gradients)"))
    verdicts = bench.verdicts(results)
    for verdict in verdicts:
        console.print(f"{verdict['workload']}: report: {verdict['claim']} -> {verdict['verdict'].upper()}: "
                      f"{verdict['ours']}", highlight=False, markup=False)
    write_record(Path(output), "execution strategies", line, load, (), torch_threads=torch_threads,
                 workloads=[w.as_dict() for w in workloads], strategies=names,
                 results=[asdict(r) for r in results], verdicts=verdicts)
    if plot:
        from qvec.bench.plots import plot_rates

        panels = {w.label: {s: [(r.batch, r.samples_per_s) for r in results if r.workload == w.kind and r.strategy == s]
                            for s in names} for w in workloads}
        plot_rates(panels, "Execution strategies: samples/s (forward)", Path(plot))
        console.print(f"wrote {plot}")
    console.print(f"wrote {output}\nreproduce: {line}", highlight=False, markup=False, soft_wrap=True)


def _row(outcome) -> list[str]:
    target = "-" if outcome.target_s is None else f"{outcome.target_s:.2f}"
    if outcome.error is not None:
        return [outcome.scenario, outcome.strategy, str(outcome.circuits), str(outcome.repeats), "failed", target,
                "-", "-", "-", "-", "-", outcome.error[:60]]
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
@click.option("--epoch-samples", default=1000, show_default=True, type=click.IntRange(min=0),
              help="Samples of the training epoch with parameter-shift gradients (0: no epoch).")
@click.option("--epoch-batch", default=100, show_default=True, type=click.IntRange(min=1),
              help="Samples per training step of the epoch.")
@click.option("--output", default="bench/results/remote.json", show_default=True, type=click.Path(dir_okay=False))
@click.option("--plot", default=None, type=click.Path(dir_okay=False), help="Write a PNG plot here.")
def remote(latency: float, capacity: int, circuits: int, many: int, fault_rate: float, repeats: int,
           skip_sequential: bool, epoch_samples: int, epoch_batch: int, output: str, plot: str | None) -> None:
    """IonQ strategies against the emulator: sequential, threads(10), concurrent, packed; faults; many circuits;
    a training epoch with parameter-shift gradients; the field report's table beside qvec's figures."""
    from rich.table import Table

    from qvec.bench.record import LoadWatch, command_line, write_record
    from qvec.bench.remote import RemoteBenchmark, default_scenarios, report_table, results_content, run_benchmark

    load, line, console = LoadWatch(), command_line(click.get_current_context()), _console()
    table = Table(title=f"IonQ strategies vs the emulator ({latency:g} s per job, {capacity} jobs at once)")
    for header in ("scenario", "strategy", "circuits", "runs", "seconds", "target", "gap", "jobs", "requests",
                   "429/503", "duplicates", "correct"):
        table.add_column(header, justify="left" if header in ("scenario", "strategy") else "right")
    bench = RemoteBenchmark(latency, capacity)
    scenarios = default_scenarios(circuits, many, fault_rate, sequential=not skip_sequential, repeats=repeats)

    def report(outcome) -> None:
        outcomes.append(outcome)
        seconds = "failed: " + outcome.error if outcome.error else f"{outcome.seconds:7.2f} s"
        console.print(f"  {outcome.scenario:<32} {outcome.strategy:<11} {seconds}", highlight=False, markup=False)
        table.add_row(*_row(outcome))

    outcomes: list = []
    epoch = None
    try:
        run_benchmark(scenarios, bench, report)
        console.print(table)
        if epoch_samples:
            console.print(f"  training epoch: {epoch_samples} samples, {epoch_batch} per step ...", highlight=False)
            epoch = _epoch(bench, epoch_samples, epoch_batch)
            console.print(f"  epoch: {_epoch_line(epoch)}", highlight=False, markup=False)
        console.print(report_table(outcomes, epoch if not isinstance(epoch, str) else None, latency, circuits))
    except KeyboardInterrupt:  # keep what was measured: the record says where it stopped
        write_record(Path(output), "remote", line, load, (), interrupted=True,
                     **results_content(outcomes, bench, epoch))
        console.print(f"interrupted: the {len(outcomes)} scenario(s) measured are in {output}", markup=False)
        raise SystemExit(130) from None
    write_record(Path(output), "remote", line, load, (), **results_content(outcomes, bench, epoch))
    if plot:
        _plot_remote(outcomes, Path(plot))
        console.print(f"wrote {plot}")
    console.print(f"wrote {output}\nreproduce: {line}", highlight=False, markup=False, soft_wrap=True)


def _epoch(bench, samples: int, batch: int):
    """The training epoch's outcome, or the one-line error that stopped it (the scenarios stay recorded)."""
    from qvec.bench.remote import one_line, run_epoch
    from qvec.errors import QvecError

    try:
        return run_epoch(bench, samples, batch)
    except QvecError as error:
        return one_line(error)


def _epoch_line(epoch) -> str:
    if isinstance(epoch, str):
        return f"failed: {epoch}"
    return (f"{epoch.seconds:.1f} s, {epoch.seconds_per_step:.2f} s per step, {epoch.jobs} jobs; first gradient "
            f"within {epoch.gradient_max_abs_diff:.1e} of local autograd")


def _plot_remote(outcomes, path: Path) -> None:
    """Seconds per scenario and strategy, one horizontal bar each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measured = [o for o in outcomes if o.seconds is not None]  # a failed scenario has no bar
    labels = [f"{o.scenario}: {o.strategy}" for o in measured]
    figure, axis = plt.subplots(figsize=(9, 0.45 * len(labels) + 1.2))
    axis.barh(labels, [o.seconds for o in measured])
    axis.invert_yaxis()
    axis.set(xlabel="seconds", title="IonQ strategies against the emulator")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)

PEER_DISTRIBUTIONS = ("pennylane", "tensorcircuit-ng", "jax", "jaxlib", "piquasso")


def _engine_options(batches: str, output: str):
    """The options ``qubit`` and ``cv`` share."""
    def decorate(function):
        for option in reversed([
            click.option("--batches", default=batches, show_default=True, callback=_int_list, help="Batch sizes B."),
            click.option("--dtype", type=click.Choice(["complex64", "complex128"]), default="complex64",
                         show_default=True, help="qvec's state precision."),
            click.option("--compare", is_flag=True, help="Also run the peers installed (the bench extra)."),
            click.option("--min-seconds", default=0.5, show_default=True, type=click.FloatRange(min=0.0),
                         help="Least time of one timed window."),
            click.option("--repeats", default=3, show_default=True, type=click.IntRange(min=1),
                         help="Rounds at each B: one timed window of every engine in turn (median reported)."),
            click.option("--torch-threads", default=1, show_default=True, type=click.IntRange(min=1),
                         help=TORCH_THREADS_HELP),
            click.option("--timeout", default=600, show_default=True, type=click.IntRange(min=1),
                         help="Seconds an engine may take to get ready (a peer's compile included) or to run "
                              "one window."),
            click.option("--output", default=output, show_default=True, type=click.Path(dir_okay=False)),
            click.option("--plot", default=None, type=click.Path(dir_okay=False), help="Write a PNG plot here."),
        ]):
            function = option(function)
        return function
    return decorate


def _run_engines(workload, engines: list[str], batches: list[int], min_seconds: float, repeats: int,
                 torch_threads: int, timeout: int, sf_python: str | None, output: str, plot: str | None) -> None:
    from qvec.bench import engines as bench
    from qvec.bench.record import LoadWatch, command_line, write_record

    load, line, console = LoadWatch(), command_line(click.get_current_context()), _console()

    def report(row: dict) -> None:
        figure = f"{row['samples_per_s']:12,.1f} samples/s" if "samples_per_s" in row else \
            (row.get("skipped") or row.get("error", ""))
        if row.get("compile_s") is not None:
            figure += f" (compile {row['compile_s']:.1f} s)"
        console.print(f"  {row['engine']:<16} B = {row['batch']:<5} {figure}", highlight=False, markup=False)

    rows = bench.run_engines(engines, workload, batches, min_seconds, repeats, torch_threads, timeout, sf_python, report)
    console.print(bench.table(rows, workload.label + ": forward + backward", workload.dtype))
    write_record(Path(output), f"engines: {workload.label}", line, load, PEER_DISTRIBUTIONS, torch_threads=torch_threads,
                 workload=workload.as_dict(), results=rows,
                 ratios=[{"engine": e, "batch": b, "qvec_over_engine": round(v, 3)}
                         for (e, b), v in bench.ratios(rows).items()])
    if plot:
        from qvec.bench.plots import plot_rates

        series = {f"{e} ({next(r.get('precision', '') for r in rows if r['engine'] == e)})":
                  [(r["batch"], r["samples_per_s"]) for r in rows if r["engine"] == e and "samples_per_s" in r]
                  for e in engines}
        plot_rates({workload.label: series}, "forward + backward samples/s", Path(plot))
        console.print(f"wrote {plot}")
    console.print(f"wrote {output}\nreproduce: {line}", highlight=False, markup=False, soft_wrap=True)


@command.command("qubit")
@click.option("--qubits", default=8, show_default=True, type=click.IntRange(min=1))
@click.option("--layers", default=4, show_default=True, type=click.IntRange(min=1))
@_engine_options("1,16,256,4096", "bench/results/bench_qubit.json")
def qubit(qubits: int, layers: int, batches: list[int], dtype: str, compare: bool, min_seconds: float, repeats: int,
          torch_threads: int, timeout: int, output: str, plot: str | None) -> None:
    """QuantumLayer on the standard circuit; with --compare PennyLane default.qubit and TensorCircuit-NG (JAX)."""
    from qvec.bench.workloads import qubit_workload

    engines = ["qvec", *(["pennylane", "tensorcircuit"] if compare else [])]
    _run_engines(qubit_workload(qubits, layers, dtype), engines, batches, min_seconds, repeats, torch_threads,
                 timeout, None, output, plot)


@command.command("cv")
@click.option("--modes", default=2, show_default=True, type=click.IntRange(min=1))
@click.option("--cutoff", default=8, show_default=True, type=click.IntRange(min=2))
@click.option("--layers", default=2, show_default=True, type=click.IntRange(min=1))
@click.option("--sf-python", default=None, type=click.Path(dir_okay=False),
              help="An interpreter whose environment has Strawberry Fields (run apart, never imported here).")
@_engine_options("1,8,32,1024", "bench/results/bench_cv.json")
def cv(modes: int, cutoff: int, layers: int, sf_python: str | None, batches: list[int], dtype: str, compare: bool,
       min_seconds: float, repeats: int, torch_threads: int, timeout: int, output: str, plot: str | None) -> None:
    """PhotonicLayer on the CV-GAN generator; with --compare Piquasso (JAX) and Strawberry Fields (--sf-python)."""
    from qvec.bench.workloads import gan_workload

    engines = ["qvec", *(["piquasso", "strawberryfields"] if compare else [])]
    _run_engines(gan_workload(modes, cutoff, layers, dtype), engines, batches, min_seconds, repeats, torch_threads,
                 timeout, sf_python, output, plot)
