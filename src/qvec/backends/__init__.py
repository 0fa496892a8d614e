"""Backends: where a batch runs. Each declares what it can do (``qvec.backends.base``).

Wherever a backend is accepted, a name works too: ``"local"`` or ``"ionq"`` (see ``resolve_backend``).
The IonQ backend (and its HTTP stack) and the Dask backend (and Dask) load on first use, so that
running locally never imports them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .base import Backend, DifferentiatesNatively, ReadsPhotonicExpectations, RunsPhotonicBatches, RunsQubitBatches
from .local import LocalBackend, LocalPhotonicBackend
from .resolve import BACKEND_NAMES, resolve_backend, resolve_photonic_backend

if TYPE_CHECKING:
    from .dask import DaskBackend
    from .ionq import IonQBackend

__all__ = ["BACKEND_NAMES", "Backend", "DaskBackend", "DifferentiatesNatively", "IonQBackend", "LocalBackend",
           "LocalPhotonicBackend", "ReadsPhotonicExpectations", "RunsPhotonicBatches", "RunsQubitBatches", "resolve_backend",
           "resolve_photonic_backend"]


# Backends that load on first use: the attribute name -> (module, attribute in it, or None for the module).
_LAZY = {"IonQBackend": (".ionq", "IonQBackend"), "ionq": (".ionq", None),
         "DaskBackend": (".dask", "DaskBackend"), "dask": (".dask", None)}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module_name, attribute = _LAZY[name]
        module = importlib.import_module(module_name, __name__)
        return module if attribute is None else getattr(module, attribute)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
