"""The WGAN critic: a small MLP, and the gradient penalty that keeps it close to 1-Lipschitz.

The penalty is one-sided by default (Petzka et al. 2018, "On the regularization of Wasserstein GANs"):
only gradients steeper than 1 pay. The two-sided penalty of Gulrajani et al. (2017) also charges slopes
below 1, which in one dimension walls a critic whose initial slope has the wrong sign off from the right
one (turning it round passes slope 0, penalised by the full weight): measured here, a 1-D critic at
weight 10 settled on the reversed slope and the generator fled the target.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

__all__ = ["Critic", "gradient_penalty"]


class Critic(nn.Module):
    """Points ``[B, dim]`` -> scores ``[B]``: two hidden layers of ``hidden`` units with LeakyReLU."""

    def __init__(self, dim: int, hidden: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                                 nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        return self.net(points).squeeze(-1)


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor, mixing: torch.Tensor, *,
                     one_sided: bool = True) -> torch.Tensor:
    """``mean(max(0, |grad D(x_hat)| - 1)^2)`` (two-sided: ``mean((|grad D(x_hat)| - 1)^2)``) at
    ``x_hat = t real + (1 - t) fake``, ``t = mixing`` ``[B]``; differentiable in the critic's weights."""
    between = (mixing[:, None] * real + (1 - mixing[:, None]) * fake).requires_grad_(True)
    (gradient,) = torch.autograd.grad(critic(between).sum(), between, create_graph=True)
    excess = gradient.norm(dim=1) - 1
    return (excess.clamp_min(0) if one_sided else excess).square().mean()
