"""qvec: quantum machine learning in which every circuit execution is a batch."""

from __future__ import annotations

import importlib
from types import ModuleType

from .circuit import Circuit

__version__ = "0.1.0"
__all__ = ["Circuit", "__version__"]

# Subpackages load on first use (`qvec.photonic.Circuit`, `qvec.backends.IonQBackend`), so that
# `import qvec` stays light for code that needs only the qubit simulator.
_SUBPACKAGES = ("apps", "backends", "circuit", "emulator", "photonic", "sim")


def __getattr__(name: str) -> ModuleType:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"qvec.{name}")
    raise AttributeError(f"module 'qvec' has no attribute {name!r}")
