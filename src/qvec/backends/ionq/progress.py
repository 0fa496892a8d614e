"""A rich progress bar of circuits completed, shown when stderr is a terminal (or when asked)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = ["circuit_progress"]


@contextmanager
def circuit_progress(total: int, label: str, enabled: bool | None = None) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)``, which moves a bar of ``total`` circuits by ``n`` (safe from any thread)."""
    console = Console(stderr=True)
    if not (console.is_terminal if enabled is None else enabled):
        yield lambda n: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("circuits"),
               TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)
