"""What ``qvec run`` does once its options are parsed: load every file, check it, then run them.

Every file is loaded and its parameters checked before anything runs, so bad input costs
nothing. Results come back in the order of the files; a Blackbird file with a batch of
parameter rows gives one result per row.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import click
import torch

from qvec import sim
from qvec.backends import IonQBackend
from qvec.backends.ionq.journal_file import DEFAULT_JOURNAL
from qvec.backends.ionq.settings import check_api_key
from qvec.circuit import Circuit, load_qasm
from qvec.errors import InputError
from qvec.photonic import BlackbirdProgram, FockState, TruncationWarning, load_blackbird

from . import one_line
from .options import dask_backend

__all__ = ["IonQOptions", "PhotonicResult", "QubitResult", "RunOptions", "run_files"]

# The CLI shows one circuit's numbers to a person or a script: precision beats speed.
_DTYPE = torch.complex128
Counts = dict[int, int]


@dataclass(frozen=True)
class RunOptions:
    """Options of every file: shots (and their seed), the Fock cutoff and renormalization."""

    shots: int | None
    seed: int | None
    cutoff: int | None
    renormalize: bool
    dask_scheduler: str | None = None  # run on this Dask scheduler's workers instead of here


@dataclass(frozen=True)
class IonQOptions:
    """The IonQ flags; ``None`` leaves each setting to the environment (IONQ_*, .env). ``journal`` is the
    job journal's file, ``None`` (off) or ``DEFAULT_JOURNAL``."""

    api_key_file: str | None
    base_url: str | None
    target: str | None
    journal: object = DEFAULT_JOURNAL

    def given(self) -> bool:
        return any(value is not None for value in (self.api_key_file, self.base_url, self.target))

    def backend(self, shots: int | None, seed: int | None) -> IonQBackend:
        return IonQBackend(api_key=self._api_key(), base_url=self.base_url, target=self.target, shots=shots, seed=seed,
                           journal=self.journal)

    def _api_key(self) -> str | None:
        if self.api_key_file is None:
            return None
        try:
            key = Path(self.api_key_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:  # the message names the file, never its content
            raise InputError(f"{self.api_key_file}: cannot read the API key file ({exc.__class__.__name__})") from None
        if not key:
            raise InputError(f"{self.api_key_file}: the API key file is empty")
        check_api_key(key, f"--api-key-file {self.api_key_file}")
        return key


@dataclass(frozen=True)
class QubitResult:
    path: str
    n_qubits: int
    probabilities: torch.Tensor  # [2**n] float64, qubit 0 the least significant bit
    counts: Counts | None

    def to_json(self) -> dict[str, Any]:
        result = {"file": self.path, "n_qubits": self.n_qubits, "probabilities": self.probabilities.tolist()}
        return result | _counts_json(self.counts)


@dataclass(frozen=True)
class PhotonicResult:
    path: str
    n_modes: int
    cutoff: int
    fock_probabilities: torch.Tensor  # [c**m] float64, row-major, mode 0 the slowest index
    mean_photon: list[float]
    counts: Counts | None  # keyed by index into fock_probabilities
    params: dict[str, float] | None  # the values bound in this row, for a program with free parameters

    def to_json(self) -> dict[str, Any]:
        result = {"file": self.path, "n_modes": self.n_modes, "cutoff": self.cutoff,
                  "fock_probabilities": self.fock_probabilities.tolist(), "mean_photon": self.mean_photon}
        return result | _counts_json(self.counts) | ({"params": self.params} if self.params is not None else {})


def _counts_json(counts: Counts | None) -> dict[str, Any]:
    return {} if counts is None else {"counts": {str(state): n for state, n in sorted(counts.items())}}


@dataclass(frozen=True)
class _QubitFile:
    path: str
    circuit: Circuit


@dataclass(frozen=True)
class _PhotonicFile:
    path: str
    program: BlackbirdProgram
    cutoff: int


def run_files(paths: Sequence[str], backend: str, params: Mapping[str, list[float]], options: RunOptions,
              ionq: IonQOptions) -> list[QubitResult | PhotonicResult]:
    """Load and check every file, then run the qubit files as one batch and each photonic file as one."""
    loaded = [_load(path, options.cutoff) for path in paths]
    _check_params(loaded, params)
    if backend == "ionq" and any(isinstance(item, _PhotonicFile) for item in loaded):
        raise InputError("--backend ionq runs qubit circuits only; run .xbb files with --backend local")
    qubit_files = [item for item in loaded if isinstance(item, _QubitFile)]
    with dask_backend(options.dask_scheduler) as dask:
        qubit_results = iter(_run_qubit_files(qubit_files, backend, options, ionq, dask) if qubit_files else [])
        results: list[QubitResult | PhotonicResult] = []
        for item in loaded:
            if isinstance(item, _QubitFile):
                results.append(next(qubit_results))
            else:
                results.extend(_run_photonic_file(item, params, options, dask))
    return results


# -- loading ----------------------------------------------------------------------------------
def _load(path: str, cutoff: int | None) -> _QubitFile | _PhotonicFile:
    """Load one file by its suffix; a photonic file must end up with a Fock cutoff."""
    suffix = Path(path).suffix.lower()
    if suffix == ".qasm":
        return _QubitFile(path, load_qasm(path))
    if suffix == ".xbb":
        program = _load_blackbird(path)
        chosen = cutoff if cutoff is not None else program.cutoff
        if chosen is None:
            raise InputError(f"{path}: no Fock cutoff: pass --cutoff C or set cutoff_dim in the program")
        return _PhotonicFile(path, program, int(chosen))
    raise InputError(f"{path}: unknown file type {suffix or '(none)'!r}; expected .qasm (OpenQASM 2) or .xbb (Blackbird)")


def _load_blackbird(path: str) -> BlackbirdProgram:
    try:
        return load_blackbird(path)
    except InputError as exc:
        message = str(exc)
        raise InputError(message if path in message else f"{path}: {message}") from None


def _check_params(files: Sequence[_QubitFile | _PhotonicFile], params: Mapping[str, list[float]]) -> None:
    """Every free parameter has a value, and every ``--param`` names a free parameter of some file."""
    photonic = [item for item in files if isinstance(item, _PhotonicFile)]
    for item in photonic:
        missing = [name for name in item.program.circuit.parameters if name not in params]
        if missing:
            raise InputError(f"{item.path}: free parameter(s) {', '.join(missing)} have no value; "
                             f"pass --param {missing[0]}=VALUE (a comma-separated list makes a batch)")
    used = {name for item in photonic for name in item.program.circuit.parameters}
    unknown = [name for name in params if name not in used]
    if unknown:
        raise InputError(f"--param {', '.join(unknown)}: no file has a free parameter of that name "
                         f"(free parameters: {', '.join(sorted(used)) or 'none'})")


# -- qubit files ------------------------------------------------------------------------------
def _run_qubit_files(files: list[_QubitFile], backend: str, options: RunOptions, ionq: IonQOptions,
                     dask: Any = None) -> list[QubitResult]:
    """Probabilities (and counts with shots) of every qubit file, in order."""
    circuits = [item.circuit for item in files]
    if dask is not None:
        probabilities = [dask.probs(circuit, None, dtype=_DTYPE)[0] for circuit in circuits]
        counts = None if options.shots is None else [
            sim.counts(dask.sample(c, options.shots, None, seed=options.seed, dtype=_DTYPE))[0] for c in circuits]
    elif backend == "local":
        probabilities = [sim.probs(circuit, dtype=_DTYPE)[0] for circuit in circuits]
        counts = None if options.shots is None else [_sampled(c, options.shots, options.seed) for c in circuits]
    else:
        results = ionq.backend(options.shots, options.seed).run_circuits(circuits, shots=options.shots)
        probabilities = [torch.as_tensor(p, dtype=torch.float64).reshape(-1) for p in results]
        counts = results.counts
    return [QubitResult(item.path, item.circuit.n_qubits, p, None if counts is None else counts[index])
            for index, (item, p) in enumerate(zip(files, probabilities))]


def _sampled(circuit: Circuit, shots: int, seed: int | None) -> Counts:
    """Counts of ``shots`` samples; the engine checks that they fit in memory before drawing any."""
    return sim.counts(sim.sample(circuit, shots, seed=seed, dtype=_DTYPE))[0]


# -- photonic files ---------------------------------------------------------------------------
def _run_photonic_file(item: _PhotonicFile, params: Mapping[str, list[float]], options: RunOptions,
                       dask: Any = None) -> list[PhotonicResult]:
    """One vectorized run over the program's parameter rows (sharded over ``dask``'s workers if given); one
    result per row."""
    circuit = item.program.circuit
    values = {name: params[name] for name in circuit.parameters}
    bound = {name: torch.tensor(v if len(v) > 1 else v[0], dtype=torch.float64) for name, v in values.items()}
    with _one_line_warnings(item.path, options.renormalize):
        state = circuit.run(bound, cutoff=item.cutoff, dtype=_DTYPE, renormalize=options.renormalize, backend=dask)
    fock = state.fock_probs().reshape(state.batch_size, -1).to(torch.float64)
    mean = torch.stack([state.mean_photon(mode) for mode in range(circuit.n_modes)], dim=1)
    counts = None if options.shots is None else _photon_counts(state, options.shots, options.seed)
    return [PhotonicResult(item.path, circuit.n_modes, item.cutoff, fock[row], mean[row].tolist(),
                           None if counts is None else counts[row], _row_values(values, row))
            for row in range(state.batch_size)]


def _row_values(values: Mapping[str, list[float]], row: int) -> dict[str, float] | None:
    """The value of each parameter in ``row`` (a single value is every row's); ``None`` without parameters."""
    return {name: v[row] if len(v) > 1 else v[0] for name, v in values.items()} if values else None


def _photon_counts(state: FockState, shots: int, seed: int | None) -> list[Counts]:
    """Per row, photon-number samples counted by their index into the row-major Fock probabilities."""
    samples = state.sample_fock(shots, seed=seed)  # [B, shots, M]
    place = state.cutoff ** torch.arange(state.n_modes - 1, -1, -1, device=samples.device)
    return sim.counts((samples * place).sum(dim=-1))


@contextmanager
def _one_line_warnings(path: str, renormalize: bool) -> Iterator[None]:
    """Print the engine's warnings as one line each, naming the file; truncation with the CLI's own remedy."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TruncationWarning)
        yield
    for warning in caught:
        message = warning.message
        if isinstance(message, TruncationWarning):
            message = f"{message.summary} " + ("Rows were renormalized (--renormalize); raise --cutoff for exact results."
                                               if renormalize else "Raise --cutoff or pass --renormalize.")
        click.echo(f"warning: {path}: {one_line(message)}", err=True)
