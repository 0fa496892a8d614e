"""A Dask scheduler for the commands that take --dask-scheduler (qvec run, qvec train)."""

from __future__ import annotations

import pytest
from distributed import LocalCluster

# Its HTTP server (health checks) on a free port of 127.0.0.1, no dashboard pages.
NO_DASHBOARD = {"dashboard": False}


@pytest.fixture(scope="module")
def scheduler():
    """A one-worker in-process cluster (two threads), closed after the module."""
    with LocalCluster(n_workers=1, processes=False, threads_per_worker=2, host="127.0.0.1", protocol="tcp",
                      dashboard_address="127.0.0.1:0", scheduler_kwargs=NO_DASHBOARD) as cluster:
        yield cluster
