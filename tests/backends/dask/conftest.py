"""One Dask cluster for the module's tests: two worker processes of one thread each, on 127.0.0.1."""

import pytest
from distributed import Client, LocalCluster


@pytest.fixture(scope="module")
def client():
    """A client of a two-process ``LocalCluster`` (no dashboard), closed after the module."""
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster, set_as_default=False) as connected:
        yield connected
