"""Backends by name: ``backend="local"`` or ``backend="ionq"`` wherever a backend object is accepted."""

from __future__ import annotations

from typing import Any

from qvec.errors import InputError

from .base import Backend

__all__ = ["BACKEND_NAMES", "resolve_backend", "resolve_photonic_backend"]

BACKEND_NAMES = ("local", "ionq")


def _unknown(value: object, accepted: str) -> InputError:
    shown = repr(value) if isinstance(value, str) else f"a {type(value).__name__}"
    return InputError(f"unknown backend {shown}; accepted: {accepted}")


def resolve_backend(value: Backend | str | None) -> Backend:
    """The qubit backend named or given: ``None`` and ``"local"`` are the local simulator; ``"ionq"``
    builds ``IonQBackend()`` from the environment (an ``AuthenticationError`` if no key is set)."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "local"):
        from .local import LocalBackend
        return LocalBackend()
    if isinstance(value, str) and value.strip().lower() == "ionq":
        from .ionq import IonQBackend
        return IonQBackend()
    if not isinstance(value, str) and isinstance(value, Backend):
        return value
    raise _unknown(value, "'local', 'ionq' or a backend object such as qvec.backends.IonQBackend(...)")


def resolve_photonic_backend(value: Any) -> Any | None:
    """The photonic backend named or given, or ``None`` for the local Fock simulator (``None`` or ``"local"``).

    A backend object must offer ``run_photonic(circuit, params, cutoff=, dtype=, device=)``.
    """
    name = value.strip().lower() if isinstance(value, str) else None
    if value is None or name == "local":
        return None
    if name == "ionq":
        raise InputError("backend 'ionq' runs qubit circuits only; photonic circuits run on backend='local' "
                         "or a backend object with run_photonic")
    if not isinstance(value, str) and callable(getattr(value, "run_photonic", None)):
        return value
    raise _unknown(value, "'local' or a backend object with run_photonic(circuit, params, cutoff=, dtype=, device=)")
