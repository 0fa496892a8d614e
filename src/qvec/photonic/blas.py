"""numpy's BLAS kept to torch's thread count while a numpy engine runs.

OpenBLAS starts its own threads for products from about 64 x 64 x 32 complex multiply-adds; beside
torch's threads, or on a busy machine, they wait for each other (a 20 us product took 260 us here).
The numpy engines (``adjoint``) run inside ``torch_thread_count()``, which sets the limit for the call
and restores it after (~15 us).
"""

from __future__ import annotations

import functools
from typing import ContextManager

import torch
from threadpoolctl import ThreadpoolController

__all__ = ["torch_thread_count"]


@functools.cache
def _controller() -> ThreadpoolController:
    return ThreadpoolController()


def torch_thread_count() -> ContextManager:
    """A context in which numpy's BLAS uses at most torch's number of threads."""
    return _controller().limit(limits=torch.get_num_threads(), user_api="blas")
