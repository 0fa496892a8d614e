"""``IonQBackend``: the Backend protocol over the IonQ API (or qvec's emulator of it).

A batch (template + parameter rows) is bound into concrete circuits, compiled to IonQ JSON,
grouped into jobs by the strategy, run, and decoded back into tensors in input order.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import httpx
import torch

from qvec.circuit import Circuit, PauliString, parse_observable
from qvec.circuit.binding import bind_rows
from qvec.circuit.parameters import ParamValue
from qvec.errors import IonQError, InputError

from .client import IonQClient
from .compile import JobOptions, check_width, circuit_entry, job_body
from .progress import circuit_progress
from .results import estimate_counts, probability_vector, sample_counts
from .runner import JobUnit
from .settings import IonQSettings, PollPolicy, RetryPolicy, Timeouts, resolve_settings
from .strategies import BatchContext, Strategy, parse_strategy, run_sync
from .targets import target_qubits

__all__ = ["IonQBackend", "CircuitResults"]

_MAX_SHOTS = 1_000_000


class CircuitResults(list):
    """Per-circuit probability tensors ``[2**n]`` in input order (qubit 0 least significant);
    ``counts`` holds one ``{basis state: count}`` per circuit when shots were set, else ``None``."""

    def __init__(self, probabilities: Sequence[torch.Tensor], counts: Sequence[dict[int, int]] | None) -> None:
        super().__init__(probabilities)
        self.counts = None if counts is None else list(counts)


def _check_shots(shots: int | None) -> int | None:
    if shots is not None and (isinstance(shots, bool) or not isinstance(shots, int) or not 1 <= shots <= _MAX_SHOTS):
        raise InputError(f"shots must be an integer from 1 to {_MAX_SHOTS:,}, got {shots!r}")
    return shots


def _generator(seed: int | None) -> torch.Generator:
    """A torch generator seeded with ``seed``, or from fresh entropy when it is ``None``."""
    generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    return generator


def _real_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.float64 if dtype in (torch.complex128, torch.float64) else torch.float32


class IonQBackend:
    """Runs batches on IonQ: ``IonQBackend(api_key=None, base_url=None, target=None, shots=None, strategy=None)``.

    ``None`` means the environment's setting or the default. With the ideal simulator and
    ``shots=None`` the results are exact probabilities; with shots, probabilities are the
    frequencies of the counts.
    """

    name = "ionq"

    def __init__(self, api_key: str | None = None, base_url: str | None = None, target: str | None = None,
                 shots: int | None = None, strategy: str | Strategy | None = None, *,
                 noise: Mapping[str, Any] | None = None, seed: int | None = None, job_name: str | None = None,
                 metadata: Mapping[str, str] | None = None, retry: RetryPolicy = RetryPolicy(),
                 poll: PollPolicy = PollPolicy(), timeouts: Timeouts = Timeouts(), progress: bool | None = None,
                 transport: httpx.AsyncBaseTransport | None = None, env_file: str | None = ".env") -> None:
        self.settings: IonQSettings = resolve_settings(api_key, base_url, target, env_file=env_file)
        self.shots = _check_shots(shots)
        self.strategy = parse_strategy(strategy)
        self.noise, self.seed, self.job_name = noise, seed, job_name
        self.metadata = dict(metadata or {})
        self.retry, self.poll, self.timeouts, self.progress = retry, poll, timeouts, progress
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
    def run_circuits(self, circuits: Sequence[Circuit], shots: int | None = None) -> CircuitResults:
        """Run concrete circuits; one result per circuit, in input order (counts when shots are set)."""
        shots = _check_shots(shots) or self.shots
        units = self._prepare(circuits, shots, run_sync(self._target_qubits()))
        with circuit_progress(len(circuits), f"IonQ {self.settings.target}", self.progress) as advance:
            distributions = self.strategy.execute(self._context(advance), units)
        return self._results(circuits, distributions, shots)

    async def run_circuits_async(self, circuits: Sequence[Circuit], shots: int | None = None) -> CircuitResults:
        """``run_circuits`` for async code; cancelling the task cancels the jobs in flight on the server."""
        shots = _check_shots(shots) or self.shots
        units = self._prepare(circuits, shots, await self._target_qubits())
        with circuit_progress(len(circuits), f"IonQ {self.settings.target}", self.progress) as advance:
            distributions = await self.strategy.run(self._context(advance), units)
        return self._results(circuits, distributions, shots)

    async def _target_qubits(self) -> int | None:
        known = target_qubits(self.settings.target)
        if known is not None:
            return known
        async with self.make_client() as client:
            return await client.backend_qubits(self.settings.target)

    def _prepare(self, circuits: Sequence[Circuit], shots: int | None, qubits: int | None) -> list[JobUnit]:
        """Check widths before anything is sent, compile, and group the circuits into job units."""
        if not circuits:
            raise InputError("no circuits to run")
        if qubits is not None:
            check_width(circuits, self.settings.target, qubits)
        options = JobOptions(self.settings.target, shots, self.noise, self.job_name, self.metadata)
        entries = [circuit_entry(c, i) for i, c in enumerate(circuits)]
        return [JobUnit(group, job_body([entries[i] for i in group], [circuits[i].n_qubits for i in group], options))
                for group in self.strategy.group(entries)]

    def _context(self, advance: Any) -> BatchContext:
        return BatchContext(self.make_client, self.poll, self.timeouts, advance)

    def _results(self, circuits: Sequence[Circuit], distributions: Mapping[int, Mapping[str, float]],
                 shots: int | None) -> CircuitResults:
        missing = [i for i in range(len(circuits)) if i not in distributions]
        if missing:
            raise IonQError(f"no results for circuit(s) {missing}")
        probabilities = [probability_vector(distributions[i], c.n_qubits) for i, c in enumerate(circuits)]
        if shots is None:
            return CircuitResults(probabilities, None)
        generator = _generator(self.seed)
        counts = [sample_counts(p, shots, generator) if self.exact else estimate_counts(p, shots) for p in probabilities]
        return CircuitResults(probabilities, counts)

    # -- the Backend protocol ----------------------------------------------------------------------
    def _frequencies(self, circuits: Sequence[Circuit], shots: int | None) -> torch.Tensor:
        """``[len(circuits), 2**n]`` probabilities, or count frequencies when shots are set."""
        results = self.run_circuits(circuits, shots)
        if results.counts is None:
            return torch.stack(results)
        rows = torch.zeros(len(circuits), results[0].numel(), dtype=torch.float64)
        for row, counts in zip(rows, results.counts):
            row[list(counts)] = torch.tensor(list(counts.values()), dtype=torch.float64)
        return rows / rows.sum(dim=1, keepdim=True)

    def probs(self, circuit: Circuit, params: Mapping[str, ParamValue] | None = None, *,
              dtype: torch.dtype = torch.complex64, device: Any = None) -> torch.Tensor:
        """Basis-state probabilities ``[B, 2**n]``, qubit 0 the least significant bit."""
        _refuse_autograd(circuit, params)
        rows = self._frequencies(bind_rows(circuit, params), self.shots)
        return rows.to(dtype=_real_dtype(dtype), device=device)

    def expval(self, circuit: Circuit, observables: Sequence[str], params: Mapping[str, ParamValue] | None = None, *,
               dtype: torch.dtype = torch.complex64, device: Any = None) -> torch.Tensor:
        """Expectation values ``[B, len(observables)]``: one basis-rotated circuit per row and measurement basis."""
        _refuse_autograd(circuit, params)
        paulis = [parse_observable(o, circuit.n_qubits) for o in observables]
        bound = bind_rows(circuit, params)
        groups = _measurement_groups(paulis)
        rotated = [_rotate(c, basis) for basis, _ in groups for c in bound]
        frequencies = self._frequencies(rotated, self.shots).reshape(len(groups), len(bound), -1)
        values = torch.empty(len(bound), len(paulis), dtype=torch.float64)
        for g, (_, members) in enumerate(groups):
            for index in members:
                values[:, index] = frequencies[g] @ _parity_signs(paulis[index], circuit.n_qubits)
        return values.to(dtype=_real_dtype(dtype), device=device)

    def sample(self, circuit: Circuit, shots: int, params: Mapping[str, ParamValue] | None = None, *,
               seed: int | None = None, dtype: torch.dtype = torch.complex64, device: Any = None) -> torch.Tensor:
        """Measured basis states ``[B, shots]`` as integers, in a random order of the counts."""
        generator = _generator(seed)
        rows = []
        for counts in self.run_circuits(bind_rows(circuit, params), _check_shots(shots)).counts:
            states = torch.tensor(list(counts), dtype=torch.int64)
            outcomes = states.repeat_interleave(torch.tensor(list(counts.values()), dtype=torch.int64))
            rows.append(outcomes[torch.randperm(len(outcomes), generator=generator)])
        if any(len(r) != shots for r in rows):
            raise IonQError(f"the counts returned do not add up to {shots} shots")
        return torch.stack(rows).to(device=device)


def _refuse_autograd(circuit: Circuit, params: Mapping[str, ParamValue] | None) -> None:
    """Remote results carry no gradient: refuse, rather than let weights silently stop learning."""
    if not torch.is_grad_enabled():
        return
    values = [*(v for v in (params or {}).values() if isinstance(v, torch.Tensor)), *circuit.tensor_angles()]
    if any(v.requires_grad for v in values):
        raise IonQError("IonQBackend does not compute gradients yet: the parameters require grad, but remote "
                        "results would carry none; evaluate under torch.no_grad() or train on the local simulator")


def _measurement_groups(paulis: Sequence[PauliString]) -> list[tuple[dict[int, str], list[int]]]:
    """Observables grouped so that each group is measured in one basis (qubit-wise commuting)."""
    groups: list[tuple[dict[int, str], list[int]]] = []
    for index, pauli in enumerate(paulis):
        for basis, members in groups:
            if all(basis.get(q, letter) == letter for q, letter in pauli.terms):
                basis.update(pauli.terms)
                members.append(index)
                break
        else:
            groups.append((dict(pauli.terms), [index]))
    return groups


def _rotate(circuit: Circuit, basis: Mapping[int, str]) -> Circuit:
    """The circuit followed by the rotation that measures ``basis`` (X: H, Y: S-dagger then H) in Z."""
    rotated = circuit.copy()
    for qubit, letter in sorted(basis.items()):
        if letter == "Y":
            rotated.sdg(qubit)
        if letter in ("X", "Y"):
            rotated.h(qubit)
    return rotated


def _parity_signs(pauli: PauliString, n_qubits: int) -> torch.Tensor:
    """``(-1)**(parity of the observable's qubits)`` for every basis state, float64 ``[2**n]``."""
    states = torch.arange(2**n_qubits)
    mask = sum(1 << q for q in pauli.wires)
    parity = torch.zeros_like(states)
    bits = states & mask
    while bool(bits.any()):
        parity ^= bits & 1
        bits = bits >> 1
    return (1 - 2 * parity).to(torch.float64)
