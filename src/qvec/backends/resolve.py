"""Backends by name: ``backend="local"`` or ``backend="ionq"`` wherever a backend object is accepted.

An object is accepted when its class declares the capability asked for (``RunsQubitBatches``,
``RunsPhotonicBatches``); methods of the right names without the declaration are not enough.
"""

from __future__ import annotations

from qvec.errors import InputError

from .base import RunsPhotonicBatches, RunsQubitBatches

__all__ = ["BACKEND_NAMES", "resolve_backend", "resolve_photonic_backend"]

BACKEND_NAMES = ("local", "ionq")


def _name(value: object) -> str | None:
    return value.strip().lower() if isinstance(value, str) else None


def _unknown(value: object, accepted: str) -> InputError:
    shown = repr(value) if isinstance(value, str) else f"a {type(value).__name__}"
    return InputError(f"unknown backend {shown}; accepted: {accepted}")


def resolve_backend(value: RunsQubitBatches | str | None) -> RunsQubitBatches:
    """The qubit backend named or given: ``None`` and ``"local"`` are the local simulator; ``"ionq"``
    builds ``IonQBackend()`` from the environment (an ``AuthenticationError`` if no key is set)."""
    if value is None or _name(value) == "local":
        from .local import LocalBackend
        return LocalBackend()
    if _name(value) == "ionq":
        from .ionq import IonQBackend
        return IonQBackend()
    if isinstance(value, RunsQubitBatches):
        return value
    raise _unknown(value, "'local', 'ionq' or a backend object such as qvec.backends.IonQBackend(...) "
                          "(a class that declares qvec.backends.RunsQubitBatches)")


def resolve_photonic_backend(value: RunsPhotonicBatches | str | None) -> RunsPhotonicBatches:
    """The photonic backend named or given: ``None`` and ``"local"`` are the local Fock simulator."""
    if value is None or _name(value) == "local":
        from .local import LocalPhotonicBackend
        return LocalPhotonicBackend()
    if _name(value) == "ionq":
        raise InputError("backend 'ionq' runs qubit circuits only; photonic circuits run on backend='local' "
                         "or a backend object that declares qvec.backends.RunsPhotonicBatches")
    if isinstance(value, RunsPhotonicBatches):
        return value
    raise _unknown(value, "'local' or a backend object that declares qvec.backends.RunsPhotonicBatches "
                          "(run_photonic(circuit, params, cutoff=, dtype=, device=, renormalize=, truncation_tol=))")
