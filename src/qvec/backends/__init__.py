"""Backends: where a batch runs. Each declares what it can do (``qvec.backends.base``).

Wherever a backend is accepted, a name works too: ``"local"`` or ``"ionq"`` (see ``resolve_backend``).
The IonQ backend (and its HTTP stack) loads on first use, so that running locally never imports it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .base import Backend, DifferentiatesNatively, RunsPhotonicBatches, RunsQubitBatches
from .local import LocalBackend, LocalPhotonicBackend
from .resolve import BACKEND_NAMES, resolve_backend, resolve_photonic_backend

if TYPE_CHECKING:
    from .ionq import IonQBackend

__all__ = ["BACKEND_NAMES", "Backend", "DifferentiatesNatively", "IonQBackend", "LocalBackend", "LocalPhotonicBackend",
           "RunsPhotonicBatches", "RunsQubitBatches", "resolve_backend", "resolve_photonic_backend"]


def __getattr__(name: str) -> Any:
    if name == "IonQBackend":
        return importlib.import_module(".ionq", __name__).IonQBackend
    if name == "ionq":
        return importlib.import_module(".ionq", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "IonQBackend", "ionq"})
