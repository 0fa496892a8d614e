"""qvec's exception tree.

    QvecError
    ├── InputError               bad user input (a file, a value, a parameter); the CLI exits 2
    └── BackendError             a backend could not execute; says why and what to do
        └── IonQError            talking to IonQ (or the emulator) failed
            ├── AuthenticationError   no key, or the key was rejected (401/403); never shows the key
            ├── CircuitTooLargeError  a circuit is too wide for the target; nothing was sent
            ├── RequestError          the API answered an error (carries method, path, status)
            ├── TransportError        no answer after every retry (connection errors, timeouts)
            └── JobError              a job did not complete (carries job ids and circuit indices)
                ├── JobFailedError    the server failed it (with its failure code and message)
                └── JobTimeoutError   it did not finish in time; it was canceled on the server
"""

from __future__ import annotations

from typing import Iterable, Sequence

__all__ = [
    "QvecError", "InputError", "BackendError", "IonQError", "AuthenticationError", "CircuitTooLargeError",
    "RequestError", "TransportError", "JobError", "JobFailedError", "JobTimeoutError", "format_indices",
]


class QvecError(Exception):
    """Base of every error qvec raises on purpose."""


class InputError(QvecError, ValueError):
    """Bad input: the message names the file, line, value or parameter."""


class BackendError(QvecError, RuntimeError):
    """A backend could not execute the batch."""


class IonQError(BackendError):
    """An error talking to the IonQ API (or qvec's emulator of it)."""


class AuthenticationError(IonQError):
    """No API key, or the API rejected it. The message never contains the key."""


class CircuitTooLargeError(IonQError):
    """A circuit needs more qubits than the target has; raised before anything is sent."""


class RequestError(IonQError):
    """The API answered a request with an error status."""

    def __init__(self, message: str, *, method: str, path: str, status_code: int) -> None:
        super().__init__(message)
        self.method, self.path, self.status_code = method, path, status_code


class TransportError(IonQError):
    """No usable answer after every retry: connection errors or timeouts."""


class JobError(IonQError):
    """A job did not complete; ``job_ids`` and ``circuits`` (input indices) say which."""

    def __init__(self, message: str, *, job_ids: Sequence[str], circuits: Sequence[int]) -> None:
        super().__init__(message)
        self.job_ids, self.circuits = list(job_ids), list(circuits)


class JobFailedError(JobError):
    """The server failed a job; ``code`` and ``server_message`` are its failure report."""

    def __init__(self, message: str, *, job_ids: Sequence[str], circuits: Sequence[int], code: str,
                 server_message: str) -> None:
        super().__init__(message, job_ids=job_ids, circuits=circuits)
        self.code, self.server_message = code, server_message


class JobTimeoutError(JobError):
    """Jobs did not finish within the batch timeout; they were canceled on the server."""


def format_indices(indices: Iterable[int]) -> str:
    """``[0, 1, 2, 5, 7, 8]`` -> ``"0-2, 5, 7-8"``."""
    ordered = sorted(set(indices))
    runs: list[list[int]] = []
    for index in ordered:
        if runs and index == runs[-1][1] + 1:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)
