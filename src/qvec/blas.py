"""numpy's BLAS kept to torch's thread count while a numpy engine runs.

OpenBLAS starts its own threads for products from about 64 x 64 x 32 complex multiply-adds; beside
torch's threads, or on a busy machine, they wait for each other (a 20 us product took 260 us here).
The numpy engines (the photonic ``adjoint``, the qubit ``fastpath``) run inside ``torch_thread_count()``,
which sets the limit for the call and restores it after.
"""

from __future__ import annotations

import functools

import torch
from threadpoolctl import ThreadpoolController

__all__ = ["torch_thread_count"]


@functools.cache
def _blas() -> tuple:
    """The BLAS libraries loaded in this process (OpenBLAS for numpy), found once."""
    return tuple(ThreadpoolController().select(user_api="blas").lib_controllers)


class torch_thread_count:
    """A context in which numpy's BLAS uses at most torch's number of threads (about 1.5 us when already so: a
    class, as a generator-based context costs more than the check)."""

    __slots__ = ("_changed",)

    def __enter__(self) -> None:
        wanted = torch.get_num_threads()
        self._changed = [(lib, previous) for lib in _blas() if (previous := lib.get_num_threads()) > wanted]
        for lib, _ in self._changed:
            lib.set_num_threads(wanted)

    def __exit__(self, *exc_info: object) -> None:
        for lib, previous in self._changed:
            lib.set_num_threads(previous)
