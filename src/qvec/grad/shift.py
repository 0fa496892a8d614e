"""Parameter-shift gradients of expectation values, for any backend that returns values.

Every differentiable angle occurrence is shifted on its own (``unroll``), by the rule of its gate
(``rules``); all shifted rows of the whole batch go to ``evaluate`` in one call together with the
unshifted rows (see ``function`` for why forward sends them), and identical rows are sent once.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import torch

from qvec.circuit import Circuit
from qvec.circuit.observables import Observable, expand_observables
from qvec.circuit.parameters import ParamValue

from .function import JacobianOf, expval_by_reevaluation
from .rules import shift_rule
from .unroll import Evaluate, UnrolledBatch, unroll

__all__ = ["shift_expval"]


def shift_expval(circuit: Circuit, observables: Observable | Sequence[Observable],
                 params: Mapping[str, ParamValue] | None, evaluate: Evaluate) -> torch.Tensor:
    """Expectation values ``[B, K]`` whose gradients are exact parameter-shift gradients.

    ``evaluate(circuit, params)`` returns the values ``[B', K]`` of ``observables`` for a batch
    without gradients (a backend call). Differentiable inputs: tensors in ``params`` (shape ``[]``,
    shared by the batch, or ``[B]``) and tensor angles in ``circuit`` that require grad. Gates
    without a rule raise an ``InputError`` naming the gate when a gradient is asked for.
    """
    batch = unroll(circuit, params)
    n_observables = len(expand_observables(observables, circuit.n_qubits))
    return expval_by_reevaluation(batch, evaluate, n_observables, lambda: _shifted_rows(batch))


def _shifted_rows(batch: UnrolledBatch) -> tuple[torch.Tensor, JacobianOf]:
    """One block of B rows per (occurrence, shift), and the rule's sum of their values per input."""
    columns = batch.differentiable_columns()
    rules = [shift_rule(batch.gates[column]) for column in columns]
    shifted = [column for column, rule in zip(columns, rules) for _ in rule.shifts]
    device = batch.rows.device
    shifts = torch.tensor([s for rule in rules for s in rule.shifts], dtype=torch.float64, device=device)
    coefficients = torch.tensor([c for rule in rules for c in rule.coefficients], dtype=torch.float64, device=device)
    # [T, inputs]: shift t moves one occurrence of its input, which counts with the occurrence's scale.
    weights = coefficients[:, None] * batch.input_map[shifted]
    rows = batch.rows.repeat(len(shifted), 1, 1)
    rows[torch.arange(len(shifted), device=device), :, shifted] += shifts[:, None]

    def jacobian_of(values: torch.Tensor) -> torch.Tensor:
        return torch.einsum("tbk,ti->bki", values, weights.to(values.device))  # evaluate may run elsewhere

    return rows, jacobian_of
