"""A training step after an optional evaluation under ``torch.inference_mode()``, for the layers' cache tests."""

from __future__ import annotations

import torch


def weight_gradient(layer: torch.nn.Module, x: torch.Tensor, evaluate_first: bool) -> torch.Tensor:
    """The weights' gradient of the squared outputs' sum, after one evaluation under inference mode if asked."""
    if evaluate_first:
        with torch.inference_mode():
            layer(x)
    layer(x).square().sum().backward()
    return layer.weights.grad
