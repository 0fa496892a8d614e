"""The Dask backend: batches sharded over a Dask cluster (a ``LocalCluster``, Slurm, Kubernetes).

Importing this package imports Dask distributed (the ``qvec[dask]`` extra); ``qvec.backends``
loads it on first use of ``qvec.backends.DaskBackend``, so that ``import qvec`` never imports Dask.
"""

from .backend import DEFAULT_CONNECT_TIMEOUT_S, DEFAULT_WORKER_TIMEOUT_S, DaskBackend, connect

__all__ = ["DEFAULT_CONNECT_TIMEOUT_S", "DEFAULT_WORKER_TIMEOUT_S", "DaskBackend", "connect"]
