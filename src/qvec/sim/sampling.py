"""Measurement samples drawn from basis-state probabilities, reproducible with a seed.

Samples are drawn by inverse-CDF: a running sum of each row's weights and a binary search for
uniform draws in it. Unlike ``torch.multinomial`` this has no limit on the number of categories
(2**24 there), so 25+ qubits and large Fock spaces sample like small ones.
"""

from __future__ import annotations

import torch

from qvec.errors import InputError

__all__ = [
    "SAMPLE_BYTES_PER_SHOT", "check_seed", "check_shots", "counts", "sample_basis_states", "sample_indices",
    "uniform_draws",
]

# Each shot holds an int64 outcome, the float64 uniform it is drawn from and, while drawn, its float64 target.
SAMPLE_BYTES_PER_SHOT = 24


def check_shots(shots: int) -> int:
    """``shots`` if it is a positive integer, else an ``InputError``."""
    if isinstance(shots, bool) or not isinstance(shots, int) or shots < 1:
        raise InputError(f"shots must be a positive integer, got {shots!r}")
    return shots


def check_seed(seed: int | None) -> int | None:
    """``seed`` if it is ``None`` or an integer a torch generator takes, else an ``InputError``."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not -2**63 <= seed < 2**64):
        raise InputError(f"seed must be an integer in [-2**63, 2**64) or None, got {seed!r}")
    return seed


def uniform_draws(rows: int, shots: int, seed: int | None, device: torch.device) -> torch.Tensor:
    """Uniforms in [0, 1) as float64 ``[rows, shots]``; the same seed gives the same draws."""
    generator = torch.Generator(device=device)
    if check_seed(seed) is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    return torch.rand(rows, shots, dtype=torch.float64, device=device, generator=generator)


def sample_indices(weights: torch.Tensor, uniforms: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """Category indices ``[N, shots]`` for ``uniforms [N, shots]``, drawn from non-negative ``weights [N, K]``.

    Weights need not sum to one; a category of zero weight is never drawn. ``out`` (int64, contiguous)
    receives the indices when given, so that chunks of a batch fill one result without a copy.
    """
    cumulative = weights.detach().to(torch.float64).clamp_min(0).cumsum(dim=1)
    totals = cumulative[:, -1:]
    bad = ~(torch.isfinite(totals) & (totals > 0)).squeeze(1)
    if bool(bad.any()):
        row = int(bad.nonzero()[0])
        raise InputError(f"cannot sample row {row}: its probabilities sum to {float(totals[row])}")
    # The largest target below each total, so rounding never lands past the last category of non-zero weight.
    targets = uniforms * totals
    torch.minimum(targets, torch.nextafter(totals, torch.zeros_like(totals)), out=targets)
    return torch.searchsorted(cumulative, targets, right=True, out=out)


def sample_basis_states(probs: torch.Tensor, shots: int, seed: int | None = None) -> torch.Tensor:
    """``shots`` basis-state integers per row, drawn from ``probs [N, 2**n]``: a LongTensor ``[N, shots]``."""
    uniforms = uniform_draws(probs.shape[0], check_shots(shots), seed, probs.device)
    return sample_indices(probs, uniforms)


def counts(samples: torch.Tensor) -> list[dict[int, int]]:
    """Per row, a map from basis-state integer to the number of times it was drawn."""
    result = []
    for row in samples:
        values, number = torch.unique(row, return_counts=True)
        result.append(dict(zip(values.tolist(), number.tolist())))
    return result
