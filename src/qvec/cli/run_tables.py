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


def _qubit_table(result: QubitResult, top: int) -> Table:
    n, counts = result.n_qubits, result.counts
    shown, hidden = top_states(result.probabilities, counts, top)
    table = Table(title=f"{escape(result.path)} ({n} qubits)", caption=_caption(hidden, counts, "states"))
    table.add_column("state", justify="right")
    table.add_column("bits (qubit 0 rightmost)")
    table.add_column("probability", justify="right")
    if counts is not None:
        table.add_column("count", justify="right")
    for index in shown:
        row = [str(index), format(index, f"0{n}b"), f"{float(result.probabilities[index]):.6f}"]
        table.add_row(*row, *([str(counts.get(index, 0))] if counts is not None else []))
    return table


def _photonic_table(result: PhotonicResult, top: int) -> Table:
    n_modes, cutoff, counts = result.n_modes, result.cutoff, result.counts
    shown, hidden = top_states(result.fock_probabilities, counts, top)
    mean = ", ".join(f"{value:.4f}" for value in result.mean_photon)
    caption = "; ".join(filter(None, [f"mean photons per mode: {mean}", _caption(hidden, counts, "Fock states")]))
    bound = "" if result.params is None else " " + ", ".join(f"{name}={value:g}" for name, value in result.params.items())
    table = Table(title=f"{escape(result.path)} ({n_modes} modes, cutoff {cutoff}){escape(bound)}", caption=caption)
    table.add_column("index", justify="right")
    table.add_column("Fock state (mode 0 first)")
    table.add_column("probability", justify="right")
    if counts is not None:
        table.add_column("count", justify="right")
    for index in shown:
        photons = [(index // cutoff ** (n_modes - 1 - mode)) % cutoff for mode in range(n_modes)]
        row = [str(index), "|" + ",".join(map(str, photons)) + ">", f"{float(result.fock_probabilities[index]):.6f}"]
        table.add_row(*row, *([str(counts.get(index, 0))] if counts is not None else []))
    return table
