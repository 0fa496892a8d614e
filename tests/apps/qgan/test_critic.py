"""The gradient penalty against hand-computed gradients of critics whose gradient is known."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from qvec.apps.qgan.critic import Critic, gradient_penalty


class Quadratic(nn.Module):
    """D(x) = scale * |x|^2, so grad D(x) = 2 scale x."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(0.75, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * x.square().sum(-1)


def test_penalty_of_a_quadratic_critic_by_hand() -> None:
    real = torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    fake = torch.tensor([[0.0, 0.0], [1.0, 0.0]], dtype=torch.float64)
    mixing = torch.tensor([0.5, 0.25], dtype=torch.float64)
    # x_hat = (0.5, 0) and (0.75, 0.5); |grad| = 1.5 |x_hat| = 0.75 and 1.5 * sqrt(0.8125)
    norms = [0.75, 1.5 * 0.8125**0.5]
    critic = Quadratic()
    two_sided = sum((n - 1) ** 2 for n in norms) / 2
    one_sided = sum(max(n - 1, 0.0) ** 2 for n in norms) / 2
    assert float(gradient_penalty(critic, real, fake, mixing, one_sided=False).detach()) == pytest.approx(two_sided, rel=1e-12)
    penalty = gradient_penalty(critic, real, fake, mixing)
    assert float(penalty.detach()) == pytest.approx(one_sided, rel=1e-12)
    # d/dscale of mean(max(0, 2 scale |x_hat| - 1)^2): only the second point counts
    x_norm = 0.8125**0.5
    expected = 2 * (1.5 * x_norm - 1) * 2 * x_norm / 2
    (gradient,) = torch.autograd.grad(penalty, critic.scale)
    assert float(gradient) == pytest.approx(expected, rel=1e-12)


def test_penalty_of_a_linear_critic_is_its_slope_excess() -> None:
    critic = nn.Linear(2, 1).double()
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 4.0]]))  # |grad| = 5 everywhere
    points = torch.randn(8, 2, dtype=torch.float64)
    value = gradient_penalty(lambda x: critic(x).squeeze(-1), points, points.flip(0), torch.rand(8, dtype=torch.float64))
    assert float(value.detach()) == pytest.approx(16.0)


def test_critic_scores_one_value_per_point() -> None:
    assert Critic(2, hidden=8)(torch.randn(5, 2)).shape == (5,)
