"""Backends: where a batch runs. Each declares what it can do (``qvec.backends.base``).

Wherever a backend is accepted, a name works too: ``"local"`` or ``"ionq"`` (see ``resolve_backend``).
"""

from .base import Backend, DifferentiatesNatively, RunsPhotonicBatches, RunsQubitBatches
from .ionq import IonQBackend
from .local import LocalBackend, LocalPhotonicBackend
from .resolve import BACKEND_NAMES, resolve_backend, resolve_photonic_backend

__all__ = ["BACKEND_NAMES", "Backend", "DifferentiatesNatively", "IonQBackend", "LocalBackend", "LocalPhotonicBackend",
           "RunsPhotonicBatches", "RunsQubitBatches", "resolve_backend", "resolve_photonic_backend"]
