"""Backends: where a batch runs. All share the protocol in ``qvec.backends.base``."""

from .base import Backend
from .ionq import IonQBackend
from .local import LocalBackend

__all__ = ["Backend", "IonQBackend", "LocalBackend"]
