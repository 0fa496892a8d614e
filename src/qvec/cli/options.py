"""Options several commands share: where a batch runs when a Dask scheduler is named."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

import click

__all__ = ["dask_scheduler_option", "dask_backend"]


def dask_scheduler_option() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--dask-scheduler tcp://HOST:PORT`` (or ``QVEC_DASK_SCHEDULER``): run on that cluster's workers."""
    return click.option("--dask-scheduler", metavar="tcp://HOST:PORT", envvar="QVEC_DASK_SCHEDULER", show_envvar=True,
                        default=None, help="Run on the workers of this Dask scheduler (their local simulators), the rows "
                                           "of a batch sharded over them; needs qvec[dask]. Seeded shots differ from a "
                                           "local run's.")


@contextmanager
def dask_backend(address: str | None) -> Iterator[Any]:
    """The Dask backend on ``address`` (its client closed afterwards), or ``None`` to run here."""
    if not address:
        yield None
        return
    from qvec.backends.dask import connect
    dask = connect(address)
    try:
        yield dask
    finally:
        dask.client.close()
