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
                    └── JobStalledError   its status did not change for the stall deadline

    KeyboardInterrupt
    └── BatchInterrupted         Ctrl-C stopped a remote batch; its jobs were canceled on the server
        └── Terminated           SIGTERM did the same (the CLI exits 143)

An ``IonQError`` or ``BatchInterrupted`` raised out of a remote batch keeps what was already paid
for: ``completed`` maps the input index of every circuit that finished to its distribution, and
``failed`` and ``unfinished`` list the input indices of the circuits that did not. The interrupts
are not ``QvecError``s on purpose: an ``except Exception`` must not swallow a Ctrl-C.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Iterable, Mapping, Sequence

__all__ = [
    "QvecError", "InputError", "BackendError", "IonQError", "AuthenticationError", "CircuitTooLargeError",
    "RequestError", "TransportError", "JobError", "JobFailedError", "JobTimeoutError", "JobStalledError",
    "BatchInterrupted", "Terminated", "BatchOutcome", "format_indices",
]

Distribution = Mapping[str, float]


class QvecError(Exception):
    """Base of every error qvec raises on purpose."""


class InputError(QvecError, ValueError):
    """Bad input: the message names the file, line, value or parameter."""


class BackendError(QvecError, RuntimeError):
    """A backend could not execute the batch."""


class BatchOutcome:
    """What became of a remote batch that stopped early: results kept, circuits failed or left unfinished."""

    completed: Mapping[int, Distribution] = MappingProxyType({})
    failed: Sequence[int] = ()
    unfinished: Sequence[int] = ()

    def record_batch(self, completed: Mapping[int, Distribution], failed: Iterable[int],
                     unfinished: Iterable[int]) -> None:
        """Attach the batch's outcome, and say it in the message when the batch had more than this error."""
        self.completed, self.failed, self.unfinished = dict(completed), sorted(failed), sorted(unfinished)
        parts = [f"{len(self.completed)} circuit(s) completed (results kept in .completed)"] if self.completed else []
        if self.failed:
            parts.append(f"failed: circuits {format_indices(self.failed)}")
        if self.unfinished:
            parts.append(f"unfinished: circuits {format_indices(self.unfinished)}")
        if self.completed or self.unfinished:
            self.args = (f"{self.args[0] if self.args else type(self).__name__} [{'; '.join(parts)}]",)


class IonQError(BatchOutcome, BackendError):
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
    """No usable answer after every retry: connection errors or timeouts.

    ``maybe_sent`` is false when every attempt failed before reaching the server (so no job exists).
    """

    def __init__(self, message: str, *, maybe_sent: bool = True) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


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


class JobStalledError(JobTimeoutError):
    """A job's status did not change for the stall deadline (``Timeouts.stall``); it was canceled."""


class BatchInterrupted(BatchOutcome, KeyboardInterrupt):
    """Ctrl-C stopped a remote batch: its jobs in flight were canceled, completed results are kept."""


class Terminated(BatchInterrupted):
    """SIGTERM stopped a remote batch, handled as Ctrl-C is; a command line exits 143."""


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
