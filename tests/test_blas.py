"""numpy's BLAS is held to torch's thread count inside the numpy engines, and given back after."""

import numpy as np
import torch
from threadpoolctl import threadpool_info, threadpool_limits

from qvec.blas import torch_thread_count


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_blas_threads_are_limited_to_torch_threads_and_restored():
    np.ones((2, 2)) @ np.ones((2, 2))  # numpy's BLAS is loaded
    before_torch = torch.get_num_threads()
    with threadpool_limits(limits=2, user_api="blas"):
        torch.set_num_threads(1)
        try:
            assert _blas_threads() and all(n == 2 for n in _blas_threads())
            with torch_thread_count():
                assert all(n == 1 for n in _blas_threads())
            assert all(n == 2 for n in _blas_threads())
        finally:
            torch.set_num_threads(before_torch)
