"""Measurement samples drawn from basis-state probabilities, reproducible with a seed."""

from __future__ import annotations

import torch

from qvec.errors import InputError

__all__ = ["sample_basis_states", "counts"]


def sample_basis_states(probs: torch.Tensor, shots: int, seed: int | None = None) -> torch.Tensor:
    """``shots`` basis-state integers per row, drawn from ``probs [N, 2**n]``: a LongTensor ``[N, shots]``."""
    if isinstance(shots, bool) or not isinstance(shots, int) or shots < 1:
        raise InputError(f"shots must be a positive integer, got {shots!r}")
    generator = torch.Generator(device=probs.device)
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    weights = probs.detach().to(torch.float64).clamp_min(0)
    return torch.multinomial(weights, shots, replacement=True, generator=generator)


def counts(samples: torch.Tensor) -> list[dict[int, int]]:
    """Per row, a map from basis-state integer to the number of times it was drawn."""
    result = []
    for row in samples:
        values, number = torch.unique(row, return_counts=True)
        result.append(dict(zip(values.tolist(), number.tolist())))
    return result
