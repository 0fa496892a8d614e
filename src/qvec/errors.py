"""qvec's exception tree.

    QvecError
    ├── InputError        bad user input (a file, a value, a parameter); the CLI exits 2
    └── BackendError      a backend could not execute; says why and what to do
"""

from __future__ import annotations

__all__ = ["QvecError", "InputError", "BackendError"]


class QvecError(Exception):
    """Base of every error qvec raises on purpose."""


class InputError(QvecError, ValueError):
    """Bad input: the message names the file, line, value or parameter."""


class BackendError(QvecError, RuntimeError):
    """A backend could not execute the batch."""
