"""SPSA gradient ESTIMATES of expectation values: two evaluations per sample, whatever the number of inputs.

Simultaneous perturbation (Spall 1992): move every input at once along a random direction
``Delta`` of +-1 entries, and estimate ``df/dtheta_i ~ (f(theta + eps Delta) - f(theta - eps Delta))
/ (2 eps) * Delta_i``. The estimate is unbiased up to O(eps**2) (exact for quadratics) and noisy;
``samples`` directions are averaged. Each row of the batch draws its own directions. All
perturbed rows go to ``evaluate`` in one call with the unperturbed ones (see ``function``).
"""

from __future__ import annotations

import math
import numbers
from typing import Mapping, Sequence

import torch

from qvec.circuit import Circuit
from qvec.circuit.observables import Observable, expand_observables
from qvec.circuit.parameters import ParamValue
from qvec.errors import InputError
from qvec.sim.sampling import check_seed

from .function import JacobianOf, expval_by_reevaluation
from .unroll import Evaluate, UnrolledBatch, unroll

__all__ = ["DEFAULT_EPSILON", "spsa_expval"]

DEFAULT_EPSILON = 0.1
"""Perturbation size in radians: small enough for a bias of ~eps**2/6 relative, large enough that
shot noise divided by 2 eps stays moderate; raise it when values carry shot noise."""


def spsa_expval(circuit: Circuit, observables: Observable | Sequence[Observable],
                params: Mapping[str, ParamValue] | None, evaluate: Evaluate, *, seed: int | None = None,
                samples: int = 1, epsilon: float = DEFAULT_EPSILON) -> torch.Tensor:
    """Expectation values ``[B, K]`` (exact) whose gradients are SPSA ESTIMATES, not exact gradients.

    ``evaluate``, the differentiable inputs and the batch are as for ``shift_expval``. ``samples``
    random directions per row are averaged; the same ``seed`` draws the same directions (``None``:
    fresh ones). The estimate costs ``2 * samples`` extra rows per row, all in one call.
    """
    _check_samples(samples)
    _check_epsilon(epsilon)
    check_seed(seed)
    batch = unroll(circuit, params)
    n_observables = len(expand_observables(observables, circuit.n_qubits))
    return expval_by_reevaluation(batch, evaluate, n_observables,
                                  lambda: _perturbed_rows(batch, samples, float(epsilon), seed))


def _perturbed_rows(batch: UnrolledBatch, samples: int, epsilon: float, seed: int | None) -> tuple[torch.Tensor, JacobianOf]:
    """Blocks of B rows moved by +eps Delta_s, then by -eps Delta_s, and the estimate from their values."""
    generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    shape = (samples, batch.batch_size, len(batch.inputs))
    directions = (torch.randint(0, 2, shape, generator=generator, dtype=torch.float64) * 2 - 1).to(batch.rows.device)
    steps = epsilon * directions @ batch.input_map.T  # [samples, B, M]: an input moves all its occurrences
    rows = torch.cat([batch.rows + steps, batch.rows - steps])

    def jacobian_of(values: torch.Tensor) -> torch.Tensor:
        slopes = (values[:samples] - values[samples:]) / (2 * epsilon)
        return torch.einsum("sbk,sbi->bki", slopes, directions.to(values.device)) / samples

    return rows, jacobian_of


def _check_samples(samples: int) -> None:
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise InputError(f"SPSA estimate: samples must be a positive integer, got {samples!r}")


def _check_epsilon(epsilon: float) -> None:
    if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or not (math.isfinite(epsilon) and epsilon > 0):
        raise InputError(f"SPSA estimate: epsilon must be a positive finite number of radians, got {epsilon!r}")
