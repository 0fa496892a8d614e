"""``IonQBackend``: a backend that runs qubit batches on the IonQ API (or qvec's emulator of it).

A batch (template + parameter rows) is bound into concrete circuits, compiled to IonQ JSON,
grouped into jobs by the strategy, run, and decoded back into tensors in input order. Results carry
no autograd graph: gradients come from ``qvec.execute`` (parameter shift, all shifted rows in one batch).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence as SequenceABC
from contextlib import contextmanager
from typing import Any, Iterator, Mapping, Sequence

import httpx
import torch

from qvec.circuit import Circuit, expand_observables
from qvec.circuit.bases import measurement_groups, parity_signs, qubit_mask, rotated_to_basis
from qvec.circuit.binding import bind_rows
from qvec.circuit.parameters import ParamValue, bind_parameters
from qvec.errors import IonQError, InputError, JobError, format_indices

from ..base import RunsQubitBatches, gradients_requested
from .client import IonQClient
from .compile import JobOptions, check_width, circuit_entry, job_body
from .journal import BatchRecord, JobJournal, account_of
from .journal_file import DEFAULT_JOURNAL, journal_path
from .progress import circuit_progress
from .results import SparseDistribution, check_dense_size, decode_distribution, estimate_counts, sample_counts
from .runner import JobUnit
from .ratelimit import RateBudget
from .settings import IonQSettings, PollPolicy, RateLimit, RetryPolicy, Timeouts, resolve_settings
from .strategies import BatchContext, Strategy, parse_strategy, run_sync
from .targets import target_qubits

__all__ = ["IonQBackend", "CircuitResults"]

logger = logging.getLogger("qvec.backends.ionq")

_MAX_SHOTS = 1_000_000


class CircuitResults(SequenceABC):
    """Per-circuit results in input order.

    ``results[i]`` is circuit i's probability tensor ``[2**n]`` (float64, qubit 0 least
    significant), made dense on demand and refused with an ``InputError`` beyond the memory budget;
    ``distributions[i]`` is the same result kept sparse (``SparseDistribution``); ``counts`` holds
    one ``{basis state: count}`` per circuit when shots were set, else ``None``.
    """

    def __init__(self, distributions: Sequence[SparseDistribution], counts: Sequence[dict[int, int]] | None) -> None:
        self.distributions = list(distributions)
        self.counts = None if counts is None else list(counts)

    def __len__(self) -> int:
        return len(self.distributions)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [d.dense() for d in self.distributions[index]]
        return self.distributions[index].dense()

    def __repr__(self) -> str:
        return f"CircuitResults({self.distributions!r}, counts={'None' if self.counts is None else '[...]'})"


def _check_shots(shots: int | None) -> int | None:
    if shots is not None and (isinstance(shots, bool) or not isinstance(shots, int) or not 1 <= shots <= _MAX_SHOTS):
        raise InputError(f"shots must be an integer from 1 to {_MAX_SHOTS:,}, got {shots!r}")
    return shots


def _generator(seed: int | None) -> torch.Generator:
    """A torch generator seeded with ``seed``, or from fresh entropy when it is ``None``."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise InputError(f"seed must be an integer or None, got {seed!r}")
    generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    return generator


def _real_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.float64 if dtype in (torch.complex128, torch.float64) else torch.float32


class IonQBackend(RunsQubitBatches):
    """Runs batches on IonQ: ``IonQBackend(api_key=None, base_url=None, target=None, shots=None, strategy=None)``.

    ``None`` means the environment's setting or the default. With the ideal simulator and
    ``shots=None`` the results are exact probabilities; with shots, probabilities are the
    frequencies of the counts. Expectation values of parameters that require grad are
    differentiated by ``qvec.execute`` (parameter shift); probabilities carry no gradient.

    Every batch is recorded in the job journal (``journal``: a file; ``None`` turns it off; by default
    ``QVEC_JOURNAL`` or the per-user data directory), so that running it again after a crash or an
    interruption reuses what completed and resubmits nothing the server accepted.
    """

    name = "ionq"

    def __init__(self, api_key: str | None = None, base_url: str | None = None, target: str | None = None,
                 shots: int | None = None, strategy: str | Strategy | None = None, *,
                 noise: Mapping[str, Any] | None = None, seed: int | None = None, job_name: str | None = None,
                 metadata: Mapping[str, str] | None = None, retry: RetryPolicy = RetryPolicy(),
                 poll: PollPolicy = PollPolicy(), timeouts: Timeouts = Timeouts(), rate_limit: RateLimit = RateLimit(),
                 progress: bool | None = None, transport: httpx.AsyncBaseTransport | None = None, env_file: str | None = ".env",
                 journal: str | os.PathLike[str] | None | object = DEFAULT_JOURNAL) -> None:
        self.settings: IonQSettings = resolve_settings(api_key, base_url, target, env_file=env_file)
        self.shots = _check_shots(shots)
        self.strategy = parse_strategy(strategy)
        self.noise, self.seed, self.job_name = noise, seed, job_name
        self.metadata = dict(metadata or {})
        self.retry, self.poll, self.timeouts, self.progress = retry, poll, timeouts, progress
        self.rate_limit = rate_limit
        self.journal = journal
        journal_path(journal)  # a bad value is refused now; the path itself is read when a batch runs
        self._transport = transport

    def __repr__(self) -> str:
        return (f"IonQBackend(target={self.settings.target!r}, base_url={self.settings.base_url!r}, "
                f"shots={self.shots}, strategy={self.strategy!r})")

    @property
    def exact(self) -> bool:
        """Whether the target returns exact probabilities (the ideal simulator) rather than estimates."""
        return self.settings.target == "simulator" and (self.noise or {}).get("model", "ideal") == "ideal"

    def make_client(self) -> IonQClient:
        """A fresh client (one per event loop) with this backend's settings and policies."""
        return IonQClient(self.settings, retry=self.retry, timeouts=self.timeouts, transport=self._transport,
                          seed=self.seed)

    # -- bound circuits ----------------------------------------------------------------------------
    def run_circuits(self, circuits: Sequence[Circuit], shots: int | None = None, *,
                     seed: int | None = None) -> CircuitResults:
        """Run concrete circuits; one result per circuit, in input order (counts when shots are set).

        ``seed`` (else the backend's) makes the counts drawn from exact probabilities reproducible,
        and seeds a noise model that has no seed of its own.
        """
        seed = self._seed(seed)
        return self._run(circuits, _check_shots(shots) or self.shots, seed, _generator(seed))

    async def run_circuits_async(self, circuits: Sequence[Circuit], shots: int | None = None, *,
                                 seed: int | None = None) -> CircuitResults:
        """``run_circuits`` for async code; cancelling the task cancels the jobs in flight on the server."""
        shots, seed = _check_shots(shots) or self.shots, self._seed(seed)
        units = self._prepare(circuits, shots, await self._target_qubits(), seed)
        with self._journaled(units, shots) as record, circuit_progress(
                len(circuits), f"IonQ {self.settings.target}", self.progress) as advance:
            started = time.perf_counter()
            answers = await self.strategy.run(self._context(advance), units)
            self._log_round(circuits, units, started)
            return self._kept_results(record, circuits, units, answers, shots, _generator(seed))

    def _run(self, circuits: Sequence[Circuit], shots: int | None, seed: int | None,
             generator: torch.Generator) -> CircuitResults:
        units = self._prepare(circuits, shots, run_sync(self._target_qubits()), seed)
        with self._journaled(units, shots) as record, circuit_progress(
                len(circuits), f"IonQ {self.settings.target}", self.progress) as advance:
            started = time.perf_counter()
            answers = self.strategy.execute(self._context(advance), units)
            self._log_round(circuits, units, started)
            return self._kept_results(record, circuits, units, answers, shots, generator)

    def _log_round(self, circuits: Sequence[Circuit], units: Sequence[JobUnit], started: float) -> None:
        """One INFO line per round of jobs, as training loops on a remote backend show them."""
        logger.info("ran %d circuit(s) in %d job(s) on %s in %.1f s", len(circuits), len(units), self.settings.target,
                    time.perf_counter() - started)

    def run_units(self, units: Sequence[JobUnit]) -> dict[int, Any]:
        """Run job units as they are (``qvec jobs resume``): raw distributions keyed by batch index."""
        with circuit_progress(sum(len(u.circuits) for u in units), f"IonQ {self.settings.target}",
                              self.progress) as advance:
            return self.strategy.execute(self._context(advance), units)

    @contextmanager
    def _journaled(self, units: Sequence[JobUnit], shots: int | None) -> Iterator[BatchRecord | None]:
        """While the batch runs, its units are recorded in the journal (and resumed from it); ``None`` without one."""
        path = journal_path(self.journal)
        if path is None:
            yield None
            return
        with JobJournal(path) as journal:
            record = journal.claim(self.settings.base_url, self.settings.target, shots, units,
                                   account_of(self.settings.api_key))
            delivered = False
            try:
                yield record
                delivered = True
            finally:
                record.release(delivered)

    def _kept_results(self, record: BatchRecord | None, circuits: Sequence[Circuit], units: Sequence[JobUnit],
                      answers: Mapping[int, Any], shots: int | None, generator: torch.Generator) -> CircuitResults:
        """``_results``; answers that fail validation are dropped from the journal, so a rerun submits their jobs again."""
        try:
            return self._results(circuits, units, answers, shots, generator)
        except JobError as error:
            if record is not None:
                record.discard([unit for unit in units if unit.job_id in error.job_ids])
            raise

    def _seed(self, seed: int | None) -> int | None:
        """A call's seed, else the backend's."""
        return self.seed if seed is None else seed

    async def _target_qubits(self) -> int | None:
        known = target_qubits(self.settings.target)
        if known is not None:
            return known
        async with self.make_client() as client:
            return await client.backend_qubits(self.settings.target)

    def _prepare(self, circuits: Sequence[Circuit], shots: int | None, qubits: int | None,
                 seed: int | None) -> list[JobUnit]:
        """Check widths before anything is sent, compile, and group the circuits into job units."""
        if not circuits:
            raise InputError("no circuits to run")
        if qubits is not None:
            check_width(circuits, self.settings.target, qubits)
        noise = self.noise
        if noise is not None and seed is not None and noise.get("seed") is None:
            noise = {**noise, "seed": seed}
        options = JobOptions(self.settings.target, shots, noise, self.job_name, self.metadata)
        entries = [circuit_entry(c, i) for i, c in enumerate(circuits)]
        return [JobUnit(group, job_body([entries[i] for i in group], [circuits[i].n_qubits for i in group], options))
                for group in self.strategy.group(entries)]

    def _context(self, advance: Any) -> BatchContext:
        """One batch's context: its requests share one budget of ``rate_limit``."""
        return BatchContext(self.make_client, self.poll, self.timeouts, advance, rate=RateBudget(self.rate_limit))

    def _results(self, circuits: Sequence[Circuit], units: Sequence[JobUnit], answers: Mapping[int, Any],
                 shots: int | None, generator: torch.Generator) -> CircuitResults:
        """Validated sparse distributions in input order, and counts when shots are set."""
        distributions = self._decode(circuits, units, answers)
        if shots is None:
            return CircuitResults(distributions, None)
        if self.exact:
            return CircuitResults(distributions, [sample_counts(d, shots, generator) for d in distributions])
        return CircuitResults(distributions, [estimate_counts(d, shots) for d in distributions])

    def _decode(self, circuits: Sequence[Circuit], units: Sequence[JobUnit],
                answers: Mapping[int, Any]) -> list[SparseDistribution]:
        """Every answer validated; one error naming each bad job and circuit, carrying the good results."""
        missing = [i for i in range(len(circuits)) if i not in answers]
        if missing:
            raise IonQError(f"no results for circuit(s) {format_indices(missing)}")
        decoded: dict[int, SparseDistribution] = {}
        failures: list[tuple[str, int, str]] = []
        for unit in units:
            for index in unit.circuits:
                try:
                    decoded[index] = decode_distribution(
                        answers[index], circuits[index].n_qubits, unit.body["input"]["qubits"], exact=self.exact,
                        where=f"job {unit.job_id}, circuit {index}")
                except IonQError as exc:
                    failures.append((str(unit.job_id), index, str(exc)))
        if failures:
            raise _invalid_results(failures, {i: answers[i] for i in decoded})
        return [decoded[i] for i in range(len(circuits))]

    # -- RunsQubitBatches ---------------------------------------------------------------------------
    def _frequencies(self, circuits: Sequence[Circuit], shots: int | None) -> list[SparseDistribution]:
        """Each circuit's probabilities, or its count frequencies when shots are set, kept sparse."""
        results = self.run_circuits(circuits, shots)
        if results.counts is None:
            return results.distributions
        return [SparseDistribution.from_counts(c, circuit.n_qubits) for c, circuit in zip(results.counts, circuits)]

    def probs(self, circuit: Circuit, params: Mapping[str, ParamValue] | None = None, *,
              dtype: torch.dtype = torch.complex64, device: Any = None) -> torch.Tensor:
        """Basis-state probabilities ``[B, 2**n]``, qubit 0 the least significant bit.

        The size of the dense result is checked against the memory budget before any job is sent; parameters
        that require grad go to ``qvec.execute``, which refuses them (only expectation values are differentiated).
        """
        if gradients_requested(circuit, params):
            from qvec.execute import Probs, execute
            return execute(circuit, params, Probs(), backend=self, dtype=dtype, device=device)
        bound = bind_rows(circuit, params)
        real = _real_dtype(dtype)
        check_dense_size(len(bound), circuit.n_qubits, real, device)
        rows = torch.zeros(len(bound), 2**circuit.n_qubits, dtype=real, device=device)
        for row, distribution in zip(rows, self._frequencies(bound, self.shots)):
            row[distribution.states.to(rows.device)] = distribution.probabilities.to(rows)
        return rows

    def expval(self, circuit: Circuit, observables: Sequence[str], params: Mapping[str, ParamValue] | None = None, *,
               dtype: torch.dtype = torch.complex64, device: Any = None) -> torch.Tensor:
        """Expectation values ``[B, len(observables)]`` of Pauli strings or weighted sums of them: one basis-rotated
        circuit per row and measurement basis, for the distinct strings of all the sums, then the weighted sums.
        Parameters that require grad go to ``qvec.execute``, which differentiates them by parameter shift."""
        if gradients_requested(circuit, params):
            from qvec.execute import Expval, execute
            return execute(circuit, params, Expval(observables), backend=self, dtype=dtype, device=device)
        terms = expand_observables(observables, circuit.n_qubits)
        paulis = list(terms.strings)
        groups = measurement_groups(paulis)
        # The basis rotations hold no parameters: rotating the template and then binding gives the bound rows rotated.
        rotated = [c for basis, _ in groups for c in bind_rows(rotated_to_basis(circuit, basis), params)]
        frequencies = self._frequencies(rotated, self.shots)
        rows = bind_parameters(circuit.parameters, params, circuit.tensor_angles()).batch_size
        values = torch.empty(rows, len(paulis), dtype=torch.float64)
        for g, (_, members) in enumerate(groups):
            states, probabilities, owner = _concatenated(frequencies[g * rows:(g + 1) * rows])
            for index in members:
                signs = parity_signs(states, qubit_mask(paulis[index])).to(torch.float64)
                values[:, index] = torch.zeros(rows, dtype=torch.float64).index_add_(0, owner, signs * probabilities)
        return terms.combine(values).to(dtype=_real_dtype(dtype), device=device)

    def sample(self, circuit: Circuit, shots: int, params: Mapping[str, ParamValue] | None = None, *,
               seed: int | None = None, dtype: torch.dtype = torch.complex64, device: Any = None) -> torch.Tensor:
        """Measured basis states ``[B, shots]`` as integers, in a random order of the counts.

        ``seed`` (else the backend's) makes the call reproducible, as on the local backend.
        """
        generator = _generator(self._seed(seed))
        rows = []
        for counts in self._run(bind_rows(circuit, params), _check_shots(shots), self._seed(seed), generator).counts:
            states = torch.tensor(list(counts), dtype=torch.int64)
            outcomes = states.repeat_interleave(torch.tensor(list(counts.values()), dtype=torch.int64))
            rows.append(outcomes[torch.randperm(len(outcomes), generator=generator)])
        if any(len(r) != shots for r in rows):
            raise IonQError(f"the counts returned do not add up to {shots} shots")
        return torch.stack(rows).to(device=device)


def _concatenated(distributions: Sequence[SparseDistribution]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The states and probabilities of many sparse distributions end to end, and the index of the one each came from."""
    sizes = torch.tensor([d.states.numel() for d in distributions])
    owner = torch.repeat_interleave(torch.arange(len(distributions)), sizes)
    return (torch.cat([d.states for d in distributions]), torch.cat([d.probabilities for d in distributions]), owner)


def _invalid_results(failures: Sequence[tuple[str, int, str]], valid: Mapping[int, Any]) -> JobError:
    """The error for answers that failed validation; it keeps the valid answers (paid for) in ``completed``."""
    shown = "; ".join(message for _, _, message in failures[:3])
    more = f"; and {len(failures) - 3} more" if len(failures) > 3 else ""
    failed = sorted(index for _, index, _ in failures)
    error = JobError(f"IonQ returned invalid results for {len(failures)} circuit(s): {shown}{more}",
                     job_ids=sorted({job for job, _, _ in failures}), circuits=failed)
    error.record_batch(valid, failed, ())
    return error
