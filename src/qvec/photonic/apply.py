"""Contract operators into axes of batched tensors: the one primitive every step is built from.

A tensor is ``[B, ...]`` with the batch on axis 0 (B may be 1 and broadcast). An operator on k
axes is ``[Bo, d, ..., d]`` with k output then k input indices, Bo being 1 (shared by the batch)
or B (one per row). The same functions apply a gate to a ket, to either side of a density
matrix, or to the output side of another operator when gates are fused.
"""

from __future__ import annotations

from typing import Sequence

import torch

__all__ = ["apply_operator", "apply_diagonal"]


def apply_operator(tensor: torch.Tensor, operator: torch.Tensor, axes: Sequence[int]) -> torch.Tensor:
    """``operator`` contracted into ``axes`` of ``tensor`` (its output indices take their place)."""
    k = len(axes)
    targets = list(range(tensor.dim() - k, tensor.dim()))
    moved = tensor.movedim(tuple(axes), targets)
    shape = moved.shape
    size = operator.shape[1:k + 1].numel()
    flat = moved.reshape(shape[0], -1, size)
    matrix = operator.reshape(operator.shape[0], size, size)
    if matrix.shape[0] == 1:
        out = flat @ matrix[0].transpose(0, 1)
    else:
        out = torch.bmm(flat.expand(matrix.shape[0], -1, -1), matrix.transpose(1, 2))
    return out.reshape(out.shape[:1] + shape[1:]).movedim(targets, tuple(axes))


def apply_diagonal(tensor: torch.Tensor, diagonal: torch.Tensor, axes: Sequence[int]) -> torch.Tensor:
    """Multiply ``tensor`` by a diagonal operator ``[Bo, d, ..., d]`` acting on ``axes``."""
    order = sorted(range(len(axes)), key=lambda i: axes[i])
    if order != list(range(len(axes))):
        diagonal = diagonal.permute(0, *(1 + i for i in order))
    shape = [diagonal.shape[0]] + [1] * (tensor.dim() - 1)
    for axis in axes:
        shape[axis] = tensor.shape[axis]
    return tensor * diagonal.reshape(shape)
