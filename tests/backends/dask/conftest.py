"""One Dask cluster for the module's tests: two worker processes of one thread each, on 127.0.0.1."""

import pytest
from distributed import Client, LocalCluster

# Its HTTP server (health checks) on a free port of 127.0.0.1, no dashboard pages.
NO_DASHBOARD = {"dashboard": False}


@pytest.fixture(scope="module")
def client():
    """A client of a two-process ``LocalCluster`` (no dashboard), closed after the module."""
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0", scheduler_kwargs=NO_DASHBOARD) as cluster, \
            Client(cluster, set_as_default=False) as connected:
        connected.wait_for_workers(2, timeout=120)
        yield connected
