"""qvec: quantum machine learning in which every circuit execution is a batch.

Everything here loads on first use (``qvec.Circuit``, ``qvec.photonic``, ``qvec.backends``), so
that ``import qvec`` costs no torch import: ``qvec --help`` and ``qvec --version`` answer at once.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .circuit import Circuit, Hamiltonian, draw

__version__ = "0.1.0"

# Public name -> the module that defines it.
_NAMES = {"Circuit": "qvec.circuit", "Hamiltonian": "qvec.circuit", "draw": "qvec.circuit"}
_SUBPACKAGES = ("apps", "backends", "bench", "circuit", "cli", "emulator", "errors", "execute", "nn", "photonic", "sim")

__all__ = ["Circuit", "Hamiltonian", "__version__", "draw"]


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    if name in _SUBPACKAGES:
        return importlib.import_module(f"qvec.{name}")
    raise AttributeError(f"module 'qvec' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_NAMES, *_SUBPACKAGES})
