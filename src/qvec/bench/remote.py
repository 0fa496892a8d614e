"""The remote-execution benchmark: IonQ strategies against the emulator with IonQ-like latency.

The field report's setting: 20 circuits of 8 qubits, 3 s per job, at most 10 jobs running at
once. Each scenario runs on a fresh emulator so that its admin counters (jobs per idempotency
key, answers per status) belong to it alone; every result is checked against the local engine.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any, Callable

import torch

import qvec
from qvec import sim
from qvec.backends.ionq import IonQBackend, PollPolicy
from qvec.emulator import Emulator, EmulatorConfig, Faults
from qvec.errors import QvecError

__all__ = ["EpochOutcome", "Outcome", "RemoteBenchmark", "Scenario", "bench_circuit", "default_scenarios", "epoch_model",
           "one_line", "report_table", "run_epoch", "run_scenario"]

_KEY = "bench-key"
# The emulator's jobs finish on a timer: poll it faster than the real service's defaults would.
EMULATOR_POLL = PollPolicy(initial=0.05, factor=1.5, maximum=0.25)
QUBITS, LAYERS = 8, 3


@dataclass(frozen=True)
class Scenario:
    """One run: a strategy on some circuits, maybe with faults, and the target time in seconds."""

    name: str
    strategy: str
    circuits: int
    fault_rate: float = 0.0
    target_s: float | None = None
    repeats: int = 1


def one_line(error: Exception) -> str:
    """An error as one line for a table and the JSON record: its type and its message's first line."""
    message = str(error).splitlines()
    return f"{type(error).__name__}: {message[0]}" if message else type(error).__name__


@dataclass(frozen=True)
class Outcome:
    """What a scenario measured; with repeats, the slowest time and the totals of the counters. A scenario that
    failed has its ``error`` and no figures (None), so the rows measured before it are kept, not lost."""

    scenario: str
    strategy: str
    circuits: int
    fault_rate: float
    repeats: int
    seconds: float | None
    target_s: float | None
    jobs: int | None
    duplicate_jobs: int | None
    requests: int | None
    fault_answers: int | None
    correct: bool | None
    error: str | None = None

    @classmethod
    def failed(cls, scenario: Scenario, error: Exception) -> Outcome:
        """The row of a scenario that raised ``error``: its one-line message, no figures."""
        return cls(scenario.name, scenario.strategy, scenario.circuits, scenario.fault_rate, scenario.repeats, None,
                   scenario.target_s, None, None, None, None, None, one_line(error))

    @property
    def gap(self) -> float | None:
        """Seconds over (+) or under (-) the target."""
        return None if self.target_s is None or self.seconds is None else self.seconds - self.target_s


@dataclass(frozen=True)
class RemoteBenchmark:
    """The emulator's timing: ``latency`` seconds per job, ``capacity`` jobs at once."""

    latency: float = 3.0
    capacity: int = 10

    def emulator(self, fault_rate: float, seed: int) -> Emulator:
        """A fresh emulator whose faults answer ``fault_rate`` of requests with 429 or 503, half each."""
        faults = Faults(seed=seed, rate_limit_rate=fault_rate / 2, error_rate=fault_rate / 2, error_statuses=(503,))
        return Emulator(EmulatorConfig(api_keys=(_KEY,), latency=self.latency, capacity=self.capacity,
                                       admin=True, faults=faults))


def bench_circuit(rows: int, seed: int = 0) -> tuple[qvec.Circuit, dict[str, torch.Tensor]]:
    """An 8-qubit layered ansatz (ry, rz per qubit, a cx chain) and ``rows`` rows of random angles."""
    generator = torch.Generator().manual_seed(seed)
    circuit, params = qvec.Circuit(QUBITS), {}
    for layer in range(LAYERS):
        for q in range(QUBITS):
            for gate in ("ry", "rz"):
                name = f"{gate}_{layer}_{q}"
                circuit.append(gate, (q,), (name,))
                params[name] = torch.rand(rows, generator=generator, dtype=torch.float64) * 6.28
        for q in range(QUBITS - 1):
            circuit.cx(q, q + 1)
    return circuit, params


def _timed_run(scenario: Scenario, bench: RemoteBenchmark, seed: int) -> tuple[float, dict[str, Any], bool]:
    """One run end to end (binding, compiling, submitting, polling, decoding): seconds, counters, correctness."""
    circuit, params = bench_circuit(scenario.circuits, seed)
    with bench.emulator(scenario.fault_rate, seed) as emulator:
        backend = IonQBackend(api_key=_KEY, base_url=emulator.base_url, strategy=scenario.strategy, env_file=None,
                              progress=False, poll=EMULATOR_POLL, journal=None)
        start = time.perf_counter()
        probabilities = backend.probs(circuit, params, dtype=torch.complex128)
        seconds = time.perf_counter() - start
        counters = emulator.counters()
    expected = sim.probs(circuit, params, dtype=torch.complex128).to(probabilities.dtype)
    return seconds, counters, bool(torch.allclose(probabilities, expected, atol=1e-9))


def run_scenario(scenario: Scenario, bench: RemoteBenchmark) -> Outcome:
    """Run a scenario ``repeats`` times (seeds 1, 2, ...): the slowest time, counters summed."""
    runs = [_timed_run(scenario, bench, seed) for seed in range(1, scenario.repeats + 1)]
    statuses = [run[1]["requests_per_status"] for run in runs]
    return Outcome(
        scenario.name, scenario.strategy, scenario.circuits, scenario.fault_rate, scenario.repeats,
        round(max(run[0] for run in runs), 3), scenario.target_s,
        sum(run[1]["jobs_created"] for run in runs),
        sum(n - 1 for run in runs for n in run[1]["jobs_per_key"].values()),
        sum(sum(s.values()) for s in statuses),
        sum(n for s in statuses for status, n in s.items() if status in ("429", "503", "dropped")),
        all(run[2] for run in runs),
    )


def default_scenarios(circuits: int = 20, many: int = 2000, fault_rate: float = 0.05, sequential: bool = True,
                      repeats: int = 5) -> list[Scenario]:
    """The issue's table. Fault scenarios run ``repeats`` times (a packed batch makes few requests, so
    one run may draw no fault) and their target is 1.3x the fault-free time, set as it is measured."""
    batch = [Scenario(f"{circuits} circuits", name, circuits) for name in ("sequential", "threads:10", "concurrent")]
    faulty = f"{fault_rate:.0%} 429/503"
    return [
        *(batch if sequential else batch[1:]),
        Scenario(f"{circuits} circuits", "packed", circuits, target_s=3.5),
        Scenario(f"{many} circuits", "packed", many, target_s=8.0),
        Scenario(f"{circuits} circuits, {faulty}", "concurrent", circuits, fault_rate),
        Scenario(f"{circuits} circuits, {faulty}", "packed", circuits, fault_rate, repeats=repeats),
        Scenario(f"{many} circuits, {faulty}", "packed", many, fault_rate, repeats=repeats),
    ]


def run_benchmark(scenarios: list[Scenario], bench: RemoteBenchmark,
                  report: Callable[[Outcome], None] = lambda outcome: None) -> list[Outcome]:
    """Run scenarios in order; a faulty scenario's target is 1.3x its fault-free twin's time. A scenario that fails
    (a qvec error: the emulator refused, a job failed) becomes an error row and the next one runs."""
    outcomes: list[Outcome] = []
    for scenario in scenarios:
        if scenario.fault_rate and scenario.target_s is None:
            twin = next((o for o in outcomes if o.circuits == scenario.circuits and o.strategy == scenario.strategy
                         and not o.fault_rate and o.seconds is not None), None)
            if twin is not None:
                scenario = Scenario(scenario.name, scenario.strategy, scenario.circuits, scenario.fault_rate,
                                    round(1.3 * twin.seconds, 3), scenario.repeats)
        try:
            outcomes.append(run_scenario(scenario, bench))
        except QvecError as error:
            outcomes.append(Outcome.failed(scenario, error))
        report(outcomes[-1])
    return outcomes


def results_content(outcomes: list[Outcome], bench: RemoteBenchmark, epoch: EpochOutcome | str | None) -> dict[str, Any]:
    """The outcomes, the epoch (or the error that stopped it) and the setting they were measured in, for the JSON
    record."""
    report = {"circuits": REPORT_CIRCUITS, "sequential_s": REPORT_SEQUENTIAL_S, "threads": REPORT_THREADS,
              "threads_s": list(REPORT_THREADS_S)}
    epoch_record = ({"error": epoch} if isinstance(epoch, str) else None if epoch is None else
                    {**asdict(epoch), "qubits": EPOCH_QUBITS, "layers": EPOCH_LAYERS, "precision": "complex128"})
    return {"emulator": asdict(bench), "qubits": QUBITS, "layers": LAYERS, "field_report": report,
            "results": [{**asdict(o), "gap_s": None if o.gap is None else round(o.gap, 3)} for o in outcomes],
            "epoch": epoch_record}


# -- a training epoch with parameter-shift gradients ----------------------------------------------
EPOCH_QUBITS, EPOCH_LAYERS = 4, 1
EPOCH_LEARNING_RATE = 0.1


@dataclass(frozen=True)
class EpochOutcome:
    """One epoch of ``samples`` rows in steps of ``batch``: seconds in all and per step, the circuits the gradients
    need (1 + 2 per weight per row), jobs and requests, the first step's largest gradient gap to local autograd and
    the weights the epoch ends with."""

    samples: int
    batch: int
    steps: int
    seconds: float
    seconds_per_step: float
    circuits_needed: int
    jobs: int
    requests: int
    gradient_max_abs_diff: float
    final_weights: tuple[float, ...]


def epoch_model(backend: Any):
    """``angle_encoding(4)`` then ``hardware_efficient(4, 1)`` (8 weights), <Z_q> of every qubit, complex128; on a
    remote backend its gradients are parameter shifts (1 + 2 x 8 circuits per row)."""
    from qvec.nn import QuantumLayer, angle_encoding, hardware_efficient

    circuit, inputs = angle_encoding(EPOCH_QUBITS)
    circuit, weights = hardware_efficient(EPOCH_QUBITS, EPOCH_LAYERS, circuit=circuit)
    return QuantumLayer(circuit, inputs, weights, [f"Z{q}" for q in range(EPOCH_QUBITS)], backend=backend,
                        diff_method="parameter-shift" if backend is not None else "backprop", seed=0,
                        dtype=torch.complex128)


def _loss(layer, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.mse_loss(layer(x), y)


def run_epoch(bench: RemoteBenchmark, samples: int, batch: int, seed: int = 0) -> EpochOutcome:
    """Train the epoch model for one epoch against a fresh emulator (no journal: the service is timed, not the
    journal's reuse), SGD on an MSE loss; the first step's gradient is checked against local autograd."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(samples, EPOCH_QUBITS, generator=generator, dtype=torch.float64) * torch.pi
    y = torch.rand(samples, EPOCH_QUBITS, generator=generator, dtype=torch.float64) * 2 - 1
    with bench.emulator(0.0, seed) as emulator:
        backend = IonQBackend(api_key=_KEY, base_url=emulator.base_url, env_file=None, progress=False,
                              poll=EMULATOR_POLL, journal=None)
        remote, local = epoch_model(backend), epoch_model(None)
        optimizer = torch.optim.SGD(remote.parameters(), lr=EPOCH_LEARNING_RATE)
        steps, gap, start = 0, float("nan"), time.perf_counter()
        for first in range(0, samples, batch):
            optimizer.zero_grad()
            _loss(remote, x[first:first + batch], y[first:first + batch]).backward()
            if steps == 0:
                _loss(local, x[:batch], y[:batch]).backward()
                gap = float((remote.weights.grad - local.weights.grad).abs().max())
            optimizer.step()
            steps += 1
        seconds = time.perf_counter() - start
        counters = emulator.counters()
    circuits = samples * (1 + 2 * len(remote.weight_names))
    return EpochOutcome(samples, batch, steps, round(seconds, 3), round(seconds / steps, 3), circuits,
                        counters["jobs_created"], sum(counters["requests_per_status"].values()), gap,
                        tuple(remote.weights.detach().tolist()))


# -- the IonQ field report beside qvec ---------------------------------------------------------------
REPORT_CIRCUITS = 20
REPORT_SEQUENTIAL_S = 60.0  # one circuit at a time, ~3 s each
REPORT_THREADS = 10
REPORT_THREADS_S = (6.0, 10.0)  # a thread pool of 10


def _report_estimate(circuits: int, latency: float) -> tuple[float, float]:
    """Seconds the report's two ways would take for ``circuits``: one at a time, and ten at a time (a lower bound:
    ``latency`` per circuit, nothing else)."""
    return circuits * latency, -(-circuits // REPORT_THREADS) * latency


def report_table(outcomes: list[Outcome], epoch: EpochOutcome | None, latency: float, circuits: int = REPORT_CIRCUITS):
    """The report's table (before, after, improvement: its batch of 20 circuits) with qvec's measured columns beside
    it, on the small batch of ``circuits``."""
    from rich.table import Table

    seconds = {o.strategy: o.seconds for o in outcomes
               if o.circuits == circuits and not o.fault_rate and o.seconds is not None}
    grid = Table(title="The IonQ field report beside qvec (est. = the report's way, latency per circuit only)")
    for header in ("workload", "report sequential", f"report {REPORT_THREADS} threads", "report gain",
                   "qvec sequential", "qvec threads:10", "qvec packed", "packed vs report's threads"):
        grid.add_column(header, justify="left" if header == "workload" else "right")
    low, high = REPORT_THREADS_S
    cell = lambda key: f"{seconds[key]:.2f} s" if key in seconds else "-"  # noqa: E731
    versus = f"{low / seconds['packed']:.1f}-{high / seconds['packed']:.1f}x" if "packed" in seconds else "-"
    grid.add_row(f"batch of {circuits} circuits (report: {REPORT_CIRCUITS})", f"{REPORT_SEQUENTIAL_S:.0f} s", f"{low:.0f}-{high:.0f} s",
                 f"{REPORT_SEQUENTIAL_S / high:.0f}-{REPORT_SEQUENTIAL_S / low:.0f}x", cell("sequential"),
                 cell("threads:10"), cell("packed"), versus)
    if epoch is not None:
        before, after = _report_estimate(epoch.circuits_needed, latency)
        grid.add_row(f"epoch: {epoch.samples:,} samples, parameter-shift ({epoch.circuits_needed:,} circuits)",
                     f"{before:,.0f} s est.", f"{after:,.0f} s est.", f"{before / after:.0f}x est.", "-", "-",
                     f"{epoch.seconds:,.1f} s ({epoch.steps} steps)", f"{after / epoch.seconds:.1f}x")
    return grid
