"""Gate fusion: merge neighbouring operators so the batch state is touched as few times as possible.

A step is one operator to apply to the state. Merging two steps costs work that does not grow
with the batch, applying one costs work proportional to it, so: steps on one mode always merge
(a c x c product is cheaper than touching a ``[B, c^M]`` state), and shared (batch-independent)
steps on two modes merge when the caller says the state is big enough to make it pay.
Per-row steps never grow to two modes, and channels never merge.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .apply import apply_diagonal, apply_operator
from .operations import DENSE, DIAGONAL

__all__ = ["Step", "CHANNEL_FORM", "fuse", "worth_fusing_two_modes"]

CHANNEL_FORM = "channel"

# Fuse shared two-mode steps when the state holds at least this many amplitudes per c^4:
# a merge costs ~c^6 multiply-adds, an application ~B c^(M+2), so the break-even is B c^M = c^4.
TWO_MODE_FUSION_RATIO = 1.0


@dataclass(frozen=True)
class Step:
    """An operator on ``modes``: dense ``[Bo, c.., c..]``, diagonal ``[Bo, c..]`` or a channel."""

    form: str
    modes: tuple[int, ...]
    tensor: torch.Tensor

    @property
    def per_row(self) -> bool:
        return self.tensor.shape[0] > 1


def worth_fusing_two_modes(state_amplitudes: int, cutoff: int) -> bool:
    """Whether merging shared two-mode steps beats applying them one by one to a state this big."""
    return state_amplitudes >= TWO_MODE_FUSION_RATIO * cutoff**4


def fuse(steps: list[Step], *, two_mode: bool) -> list[Step]:
    """Merge steps greedily; the product of the result equals the product of ``steps``.

    A step may merge into an earlier block when every block after that one acts on other modes:
    operators on disjoint modes commute, so e.g. rotations on mode 0 join the beamsplitter on
    modes (0, 1) even after a beamsplitter on (1, 2) came between them.
    """
    fused: list[Step] = []
    for step in steps:
        target = _merge_target(fused, step, two_mode)
        if target is None:
            fused.append(step)
        else:
            fused[target] = _merge(fused[target], step)
    return fused


def _merge_target(fused: list[Step], step: Step, two_mode: bool) -> int | None:
    """The latest block ``step`` can merge into, looking back past blocks on disjoint modes only."""
    for index in range(len(fused) - 1, -1, -1):
        block = fused[index]
        if _can_merge(block, step, two_mode):
            return index
        if set(block.modes) & set(step.modes):
            return None
    return None


def _can_merge(block: Step, step: Step, two_mode: bool) -> bool:
    if CHANNEL_FORM in (block.form, step.form):
        return False
    union = set(block.modes) | set(step.modes)
    if len(union) == 1:
        return True
    return len(union) == 2 and two_mode and not block.per_row and not step.per_row


def _merge(block: Step, step: Step) -> Step:
    """``step`` applied after ``block``, as one step."""
    if block.form == DIAGONAL and step.form == DIAGONAL and set(block.modes) == set(step.modes):
        return Step(DIAGONAL, block.modes, block.tensor * _reordered(step, block.modes))
    if len(block.modes) == 1 and block.modes == step.modes:
        return Step(DENSE, block.modes, _single_mode_product(step, block))
    dense = _as_dense(block)
    for mode in step.modes:
        if mode not in dense.modes:
            dense = _extended(dense, mode)
    axes = [1 + dense.modes.index(mode) for mode in step.modes]
    apply = apply_diagonal if step.form == DIAGONAL else apply_operator
    return Step(DENSE, dense.modes, apply(dense.tensor, step.tensor, axes))


def _single_mode_product(later: Step, earlier: Step) -> torch.Tensor:
    """``later @ earlier`` for one-mode steps, scaling rows or columns where one is diagonal."""
    if earlier.form == DIAGONAL:
        return later.tensor * earlier.tensor.unsqueeze(-2)
    if later.form == DIAGONAL:
        return later.tensor.unsqueeze(-1) * earlier.tensor
    return torch.matmul(later.tensor, earlier.tensor)


def _reordered(step: Step, modes: tuple[int, ...]) -> torch.Tensor:
    """A diagonal step's tensor with its mode axes in the order of ``modes``."""
    if step.modes == modes:
        return step.tensor
    return step.tensor.permute(0, *(1 + step.modes.index(mode) for mode in modes))


def _as_dense(step: Step) -> Step:
    if step.form == DENSE:
        return step
    rows, shape = step.tensor.shape[0], step.tensor.shape[1:]
    dense = torch.diag_embed(step.tensor.reshape(rows, -1)).reshape(rows, *shape, *shape)
    return Step(DENSE, step.modes, dense)


def _extended(step: Step, mode: int) -> Step:
    """A one-mode dense step written on two modes (identity on ``mode``)."""
    operator = step.tensor
    cutoff = operator.shape[-1]
    identity = torch.eye(cutoff, dtype=operator.dtype, device=operator.device)
    tensor = operator[:, :, None, :, None] * identity[None, None, :, None, :]
    return Step(DENSE, step.modes + (mode,), tensor)
