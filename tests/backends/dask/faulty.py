"""A worker-side backend that kills its own worker process the first time it runs (for the lost-worker test).

It lives in its own module so that the worker processes can import it by name.
"""

import os
from pathlib import Path

from qvec.backends import LocalBackend


class DiesOnceBackend(LocalBackend):
    """``LocalBackend``, except that the first shard anywhere creates ``marker`` and kills its worker process;
    every run appends its rows' first input to ``log`` (to count how often each shard ran)."""

    def __init__(self, marker: str, log: str) -> None:
        self.marker, self.log = marker, log

    def expval(self, circuit, observables, params, **options):
        with open(self.log, "a", encoding="utf-8") as log:
            log.write(f"{float(params['a'][0])}\n")
        try:
            os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return super().expval(circuit, observables, params, **options)
        os._exit(17)  # the worker process dies mid-batch, as on a lost machine

    def __repr__(self) -> str:
        return f"DiesOnceBackend({Path(self.marker).name})"
