"""``qvec run``'s human output: one table per result, showing its top states.

With shots the rows are the most counted states, otherwise the most likely ones, best first, so
that a sampled state is never hidden behind states that were not drawn.
"""

from __future__ import annotations

import torch
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .run_batch import Counts, PhotonicResult, QubitResult

__all__ = ["print_tables", "top_states"]

# Probabilities below this are rounding noise of an exact zero: such states are not listed.
_ZERO_PROBABILITY = 1e-12


def print_tables(results: list[QubitResult | PhotonicResult], top: int) -> None:
    console = Console()
    for result in results:
        console.print(_qubit_table(result, top) if isinstance(result, QubitResult) else _photonic_table(result, top))


def top_states(probabilities: torch.Tensor, counts: Counts | None, top: int) -> tuple[list[int], int]:
    """The ``top`` most counted (with counts) or most likely states, best first, and how many more there are."""
    if counts is not None:
        ranked = sorted(counts, key=lambda state: (-counts[state], state))
        return ranked[:top], max(len(ranked) - top, 0)
    candidates = int((probabilities > _ZERO_PROBABILITY).sum())
    indices = probabilities.topk(min(top, candidates)).indices.tolist()
    return sorted(indices, key=lambda i: (-float(probabilities[i]), i)), candidates - len(indices)


def _caption(hidden: int, counts: Counts | None, kind: str) -> str | None:
    if not hidden:
        return None
    return f"{hidden} more sampled {kind}" if counts is not None else f"{hidden} more {kind} with nonzero probability"


def _table(title: str, caption: str | None, label_columns: list[str], with_counts: bool) -> Table:
    table = Table(title=escape(title), caption=caption)
    table.add_column(label_columns[0], justify="right")
    for header in label_columns[1:]:
        table.add_column(header)
    table.add_column("probability", justify="right")
    if with_counts:
        table.add_column("count", justify="right")
    return table


def _add_row(table: Table, labels: list[str], probability: float, counts: Counts | None, index: int) -> None:
    table.add_row(*labels, f"{probability:.6f}", *([str(counts.get(index, 0))] if counts is not None else []))


def _qubit_table(result: QubitResult, top: int) -> Table:
    n, counts = result.n_qubits, result.counts
    shown, hidden = top_states(result.probabilities, counts, top)
    table = _table(f"{result.path} ({n} qubits)", _caption(hidden, counts, "states"),
                   ["state", "bits (qubit 0 rightmost)"], counts is not None)
    for index in shown:
        _add_row(table, [str(index), format(index, f"0{n}b")], float(result.probabilities[index]), counts, index)
    return table


def _photonic_table(result: PhotonicResult, top: int) -> Table:
    n_modes, cutoff, counts = result.n_modes, result.cutoff, result.counts
    shown, hidden = top_states(result.fock_probabilities, counts, top)
    mean = ", ".join(f"{value:.4f}" for value in result.mean_photon)
    caption = "; ".join(filter(None, [f"mean photons per mode: {mean}", _caption(hidden, counts, "Fock states")]))
    bound = "" if result.params is None else " " + ", ".join(f"{name}={value:g}" for name, value in result.params.items())
    table = _table(f"{result.path} ({n_modes} modes, cutoff {cutoff}){bound}", caption,
                   ["index", "Fock state (mode 0 first)"], counts is not None)
    for index in shown:
        photons = [(index // cutoff ** (n_modes - 1 - mode)) % cutoff for mode in range(n_modes)]
        labels = [str(index), "|" + ",".join(map(str, photons)) + ">"]
        _add_row(table, labels, float(result.fock_probabilities[index]), counts, index)
    return table
