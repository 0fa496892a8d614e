"""``tensor_cache``: an ``lru_cache`` for functions that build tensors autograd may use later.

A tensor made while ``torch.inference_mode()`` is on is an inference tensor, which autograd refuses to
save; a cache filled during an evaluation under inference mode would break every training step after
it. The cached function therefore always runs with inference mode off (a hit costs nothing extra).
"""

from __future__ import annotations

import functools
from typing import Callable, TypeVar

import torch

__all__ = ["tensor_cache"]

F = TypeVar("F", bound=Callable)


def tensor_cache(maxsize: int) -> Callable[[F], F]:
    """``functools.lru_cache(maxsize)`` whose misses run outside inference mode."""
    def decorate(function: F) -> F:
        @functools.lru_cache(maxsize=maxsize)
        @functools.wraps(function)
        def cached(*args, **kwargs):
            with torch.inference_mode(False):
                return function(*args, **kwargs)
        return cached  # type: ignore[return-value]
    return decorate
