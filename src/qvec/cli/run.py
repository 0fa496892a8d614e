"""``qvec run FILE...``: run OpenQASM 2 (``.qasm``) and Blackbird (``.xbb``) files as one batch.

Every file is loaded and checked before anything runs, so bad input costs nothing. Results come
out in the order the files were given: a short table per file, or with ``--json`` one JSON list
in the form DESIGN.md fixes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import torch
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from qvec import sim
from qvec.circuit import Circuit, load_qasm
from qvec.errors import BackendError, InputError

__all__ = ["command"]

# The CLI shows one circuit's numbers to a person or a script: precision beats speed.
_DTYPE = torch.complex128
_TABLE_ROWS = 16


@dataclass(frozen=True)
class _QubitFile:
    path: str
    circuit: Circuit


@dataclass(frozen=True)
class _PhotonicFile:
    path: str
    program: Any  # a qvec.photonic Blackbird program: ``.circuit`` and ``.cutoff``
    cutoff: int


@click.command("run")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--backend", type=click.Choice(["local", "ionq"]), default="local", show_default=True,
              help="Where the qubit circuits run (.xbb files run locally only).")
@click.option("--shots", type=click.IntRange(min=1), default=None, help="Also sample N shots of each qubit circuit.")
@click.option("--cutoff", type=click.IntRange(min=1), default=None, help="Fock cutoff for .xbb files (overrides the file's).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON list, one object per file.")
@click.option("--seed", type=int, default=None, help="Seed for sampling shots: the same seed gives the same counts.")
def command(files: tuple[str, ...], backend: str, shots: int | None, cutoff: int | None, as_json: bool,
            seed: int | None) -> None:
    """Run OpenQASM 2 and Blackbird files and print their probabilities."""
    loaded = [_load(path, cutoff) for path in files]
    if backend == "ionq" and any(isinstance(item, _PhotonicFile) for item in loaded):
        raise InputError("--backend ionq runs qubit circuits only; run .xbb files with --backend local")
    qubit_files = [item for item in loaded if isinstance(item, _QubitFile)]
    qubit_results = iter(_run_qubit_files(qubit_files, backend, shots, seed) if qubit_files else [])
    results = [next(qubit_results) if isinstance(item, _QubitFile) else _run_photonic_file(item) for item in loaded]
    if as_json:
        click.echo(json.dumps(results))
    else:
        _print_tables(results)


def _load(path: str, cutoff: int | None) -> _QubitFile | _PhotonicFile:
    """Load one file by its suffix; a photonic file must end up with a Fock cutoff."""
    suffix = Path(path).suffix.lower()
    if suffix == ".qasm":
        return _QubitFile(path, load_qasm(path))
    if suffix == ".xbb":
        program = _load_blackbird(path)
        if program.circuit.parameters:
            free = ", ".join(program.circuit.parameters)
            raise InputError(f"{path}: free parameter(s) {free} have no value; qvec run needs a program with every parameter bound")
        chosen = cutoff if cutoff is not None else program.cutoff
        if chosen is None:
            raise InputError(f"{path}: no Fock cutoff: pass --cutoff C or set cutoff_dim in the program")
        return _PhotonicFile(path, program, int(chosen))
    raise InputError(f"{path}: unknown file type {suffix or '(none)'!r}; expected .qasm (OpenQASM 2) or .xbb (Blackbird)")


def _load_blackbird(path: str) -> Any:
    try:
        from qvec.photonic import load_blackbird
    except ImportError as exc:
        raise BackendError(f"{path}: Blackbird files need qvec.photonic, which this installation lacks ({exc})") from None
    try:
        return load_blackbird(path)
    except InputError as exc:
        message = str(exc)
        raise InputError(message if path in message else f"{path}: {message}") from None


# -- execution --------------------------------------------------------------------------------
Counts = dict[int, int]


def _run_qubit_files(files: list[_QubitFile], backend_name: str, shots: int | None, seed: int | None) -> list[dict]:
    """Probabilities (and counts with ``shots``) of every qubit file, in order."""
    run = _run_locally if backend_name == "local" else _run_on_ionq
    probabilities, counts = run([item.circuit for item in files], shots, seed)
    results = []
    for index, (item, probs) in enumerate(zip(files, probabilities)):
        result = {"file": item.path, "n_qubits": item.circuit.n_qubits, "probabilities": probs.tolist()}
        if counts is not None:
            result["counts"] = {str(state): n for state, n in sorted(counts[index].items())}
        results.append(result)
    return results


def _run_locally(circuits: list[Circuit], shots: int | None, seed: int | None) -> tuple[list[torch.Tensor], list[Counts] | None]:
    return _probabilities(circuits, None), _sampled_counts(circuits, shots, seed, None)


def _run_on_ionq(circuits: list[Circuit], shots: int | None, seed: int | None) -> tuple[list[torch.Tensor], list[Counts] | None]:
    """All circuits on IonQ: one batch (multi-circuit jobs) when the backend offers ``run_circuits``."""
    try:
        from qvec.backends import IonQBackend
    except ImportError as exc:
        raise BackendError(f"the IonQ backend is not available in this installation of qvec ({exc})") from None
    backend = IonQBackend(shots=shots, seed=seed)
    if not hasattr(backend, "run_circuits"):
        return _probabilities(circuits, backend), _sampled_counts(circuits, shots, seed, backend)
    results = backend.run_circuits(circuits, shots=shots)
    counts = getattr(results, "counts", None)
    if shots and counts is None:
        raise BackendError("the IonQ backend returned no counts although shots were set")
    return [torch.as_tensor(p, dtype=torch.float64).reshape(-1) for p in results], counts


def _probabilities(circuits: list[Circuit], backend: Any) -> list[torch.Tensor]:
    return [circuit.probs(dtype=_DTYPE, backend=backend)[0] for circuit in circuits]


def _sampled_counts(circuits: list[Circuit], shots: int | None, seed: int | None, backend: Any) -> list[Counts] | None:
    if not shots:
        return None
    return [sim.counts(circuit.sample(shots, seed=seed, dtype=_DTYPE, backend=backend))[0] for circuit in circuits]


def _run_photonic_file(item: _PhotonicFile) -> dict:
    state = item.program.circuit.run(cutoff=item.cutoff, dtype=_DTYPE)
    n_modes = item.program.circuit.n_modes
    return {
        "file": item.path, "n_modes": n_modes, "cutoff": item.cutoff,
        "fock_probabilities": state.fock_probs()[0].reshape(-1).tolist(),
        "mean_photon": [float(state.mean_photon(mode)[0]) for mode in range(n_modes)],
    }


# -- human output -----------------------------------------------------------------------------
def _print_tables(results: list[dict]) -> None:
    console = Console()
    for result in results:
        console.print(_qubit_table(result) if "n_qubits" in result else _photonic_table(result))


def _largest(probabilities: list[float]) -> tuple[list[int], int]:
    """Indices of the most likely outcomes (at most ``_TABLE_ROWS``, in index order) and how many are left out."""
    nonzero = [i for i, p in enumerate(probabilities) if p > 1e-12]
    shown = sorted(sorted(nonzero, key=lambda i: -probabilities[i])[:_TABLE_ROWS])
    return shown, len(nonzero) - len(shown)


def _qubit_table(result: dict) -> Table:
    n, counts = result["n_qubits"], result.get("counts")
    shown, hidden = _largest(result["probabilities"])
    table = Table(title=f"{escape(result['file'])} ({n} qubits)", caption=f"{hidden} more states" if hidden else None)
    table.add_column("state (qubit 0 rightmost)")
    table.add_column("probability", justify="right")
    if counts is not None:
        table.add_column("count", justify="right")
    for index in shown:
        row = [f"|{index:0{n}b}>", f"{result['probabilities'][index]:.6f}"]
        table.add_row(*row, *([str(counts.get(str(index), 0))] if counts is not None else []))
    return table


def _photonic_table(result: dict) -> Table:
    n_modes, cutoff = result["n_modes"], result["cutoff"]
    mean = ", ".join(f"{value:.4f}" for value in result["mean_photon"])
    shown, hidden = _largest(result["fock_probabilities"])
    caption = f"mean photons per mode: {mean}" + (f"; {hidden} more Fock states" if hidden else "")
    table = Table(title=f"{escape(result['file'])} ({n_modes} modes, cutoff {cutoff})", caption=caption)
    table.add_column("Fock state (mode 0 first)")
    table.add_column("probability", justify="right")
    for index in shown:
        photons = [(index // cutoff ** (n_modes - 1 - mode)) % cutoff for mode in range(n_modes)]
        table.add_row("|" + ",".join(map(str, photons)) + ">", f"{result['fock_probabilities'][index]:.6f}")
    return table
