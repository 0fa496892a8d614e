"""Functions written as Python source at run time and compiled, their lines kept for tracebacks.

The small-batch engines (``qvec.sim.fastcode``, ``qvec.photonic.sweep``) write a plan's step as straight-line
code once, so that nothing is interpreted per call; ``linecache`` holds each source under its own name, so a
traceback through the written code shows its lines.
"""

from __future__ import annotations

import itertools
import linecache
from typing import Any

__all__ = ["compiled"]

_written = itertools.count()


def compiled(source: str, label: str, namespace: dict[str, Any]) -> dict[str, Any]:
    """``namespace`` with the functions that ``source`` defines, compiled under the name ``<qvec LABEL N>``."""
    filename = f"<qvec {label} {next(_written)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    return namespace
