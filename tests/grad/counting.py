"""An ``evaluate`` for the re-evaluation gradient methods that runs qvec.sim in complex128 and counts."""

from __future__ import annotations

from typing import Mapping

import torch

from qvec import sim
from qvec.circuit import Circuit


class CountingEvaluate:
    """Exact expectation values of ``observables``; records the number of rows of every call."""

    def __init__(self, observables: list) -> None:
        self.observables = observables
        self.rows: list[int] = []
        self.sent: list[torch.Tensor] = []

    def __call__(self, circuit: Circuit, params: Mapping[str, torch.Tensor]) -> torch.Tensor:
        values = sim.expval(circuit, self.observables, params, dtype=torch.complex128)
        self.rows.append(int(values.shape[0]))
        self.sent.append(torch.stack(list(params.values()), dim=1) if params else torch.zeros(1, 0))
        return values

    @property
    def calls(self) -> int:
        return len(self.rows)
