"""The autograd node of the gradient methods that re-evaluate a circuit (parameter shift, SPSA).

Chosen design: when any input requires grad, the forward pass sends the unshifted rows and every
shifted (or perturbed) row of the whole batch to ``evaluate`` in ONE call and keeps the Jacobian
it yields; the backward pass only contracts that Jacobian with the incoming gradient. A training
step (forward + backward) is then exactly one backend batch, one round of jobs on a remote
backend. The price: the extra rows are evaluated even if backward is never called. Without
inputs that require grad (or under ``torch.no_grad()``), only the B rows are evaluated.
"""

from __future__ import annotations

from typing import Callable

import torch

from qvec.errors import InputError

from .unroll import Evaluate, UnrolledBatch

__all__ = ["JacobianOf", "Plan", "expval_by_reevaluation"]

JacobianOf = Callable[[torch.Tensor], torch.Tensor]
"""From the values of the extra rows ``[E, B, K]`` (float64) to the Jacobian ``[B, K, len(inputs)]``."""
Plan = Callable[[], tuple[torch.Tensor, JacobianOf]]
"""Builds the extra rows ``[E, B, M]`` and the function that turns their values into the Jacobian."""


class _ExpvalWithJacobian(torch.autograd.Function):
    """Values from ``compute``, which also returns their Jacobian with respect to ``inputs``."""

    @staticmethod
    def forward(ctx, compute: Callable[[], tuple[torch.Tensor, torch.Tensor]], *inputs: torch.Tensor) -> torch.Tensor:
        values, jacobian = compute()
        ctx.save_for_backward(jacobian)
        ctx.inputs_meta = [(x.shape, x.dtype, x.device) for x in inputs]
        return values

    @staticmethod
    def backward(ctx, grad_values: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        if torch.is_grad_enabled():  # create_graph=True: the Jacobian is a constant here, so these would be wrong
            raise InputError("parameter-shift and SPSA give first derivatives only; for higher derivatives "
                             "(create_graph=True) use diff_method='backprop'")
        (jacobian,) = ctx.saved_tensors
        per_row = torch.einsum("bk,bki->ib", grad_values.to(jacobian), jacobian)
        grads = [(g.sum() if len(shape) == 0 else g.reshape(shape)).to(dtype=dtype, device=device)
                 for g, (shape, dtype, device) in zip(per_row, ctx.inputs_meta)]
        return (None, *grads)


def expval_by_reevaluation(batch: UnrolledBatch, evaluate: Evaluate, n_observables: int, plan: Plan) -> torch.Tensor:
    """Values ``[B, K]``; when an input requires grad, with a grad_fn fed by the extra rows ``plan`` builds.

    ``plan`` runs before anything is evaluated, so its errors (a gate without a rule) come first.
    """
    if not (torch.is_grad_enabled() and batch.inputs):
        return batch.evaluate(batch.rows, evaluate, n_observables)
    extra_rows, jacobian_of = plan()
    size = batch.batch_size

    def compute() -> tuple[torch.Tensor, torch.Tensor]:
        rows = torch.cat([batch.rows, extra_rows.reshape(-1, batch.rows.shape[1])])
        values = batch.evaluate(rows, evaluate, n_observables)
        return values[:size], jacobian_of(values[size:].to(torch.float64).unflatten(0, (-1, size)))

    return _ExpvalWithJacobian.apply(compute, *batch.inputs)
