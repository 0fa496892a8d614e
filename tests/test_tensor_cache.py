"""A tensor cached during inference mode is a normal tensor that autograd can save later."""

import torch

from qvec.tensor_cache import tensor_cache


def test_a_cache_filled_under_inference_mode_serves_autograd():
    calls = []

    @tensor_cache(maxsize=4)
    def ramp(n: int) -> torch.Tensor:
        calls.append(n)
        return torch.arange(n, dtype=torch.float64)

    with torch.inference_mode():
        first = ramp(3)
    assert not first.is_inference()
    weight = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    (ramp(3) * weight).square().sum().backward()  # the cached tensor is saved for backward
    assert calls == [3] and ramp(3) is first
    assert weight.grad == 2 * 2.0 * (0 + 1 + 4)
