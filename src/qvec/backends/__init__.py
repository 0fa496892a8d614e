"""Backends: where a batch runs. All share the protocol in ``qvec.backends.base``.

Wherever a backend is accepted, a name works too: ``"local"`` or ``"ionq"`` (see ``resolve_backend``).
"""

from .base import Backend
from .ionq import IonQBackend
from .local import LocalBackend
from .resolve import BACKEND_NAMES, resolve_backend, resolve_photonic_backend

__all__ = ["BACKEND_NAMES", "Backend", "IonQBackend", "LocalBackend", "resolve_backend", "resolve_photonic_backend"]
