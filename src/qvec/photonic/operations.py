"""Photonic operations: what each one is, how many modes and parameters it takes, its matrix.

An operation is a state preparation (it must come first on its modes), a gate (a unitary
given as a dense or diagonal Fock matrix), or a channel (a superoperator on density matrices).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch

from qvec.circuit.parameters import Angle, angle_key

from . import matrices

__all__ = ["Operation", "OperationSpec", "SPECS", "PREPARATION", "GATE", "CHANNEL", "DENSE", "DIAGONAL"]

PREPARATION, GATE, CHANNEL = "preparation", "gate", "channel"
DENSE, DIAGONAL = "dense", "diagonal"

Builder = Callable[[list[torch.Tensor], int, torch.dtype], torch.Tensor]


def _displaced_squeezed(p: list[torch.Tensor], cutoff: int, dtype: torch.dtype) -> torch.Tensor:
    return matrices.displacement(p[0], p[1], cutoff, dtype) @ matrices.squeezing(p[2], p[3], cutoff, dtype)


@dataclass(frozen=True)
class OperationSpec:
    """One kind of operation: its role, arity, parameter names and matrix builder."""

    name: str
    role: str
    n_modes: int
    param_names: tuple[str, ...]
    form: str | None = None  # DENSE or DIAGONAL for gates and matrix-built preparations
    build: Builder | None = None


SPECS: dict[str, OperationSpec] = {spec.name: spec for spec in [
    OperationSpec("vacuum", PREPARATION, 1, ()),
    OperationSpec("fock", PREPARATION, 1, ()),
    OperationSpec("thermal", PREPARATION, 1, ("nbar",)),
    OperationSpec("ket", PREPARATION, 0, ()),
    # Pure Gaussian preparations are their gate applied to the vacuum the mode starts in.
    OperationSpec("coherent", PREPARATION, 1, ("r", "phi"), DENSE,
                  lambda p, c, t: matrices.displacement(p[0], p[1], c, t)),
    OperationSpec("squeezed", PREPARATION, 1, ("r", "phi"), DENSE,
                  lambda p, c, t: matrices.squeezing(p[0], p[1], c, t)),
    OperationSpec("displaced_squeezed", PREPARATION, 1, ("r_d", "phi_d", "r_s", "phi_s"), DENSE, _displaced_squeezed),
    OperationSpec("d", GATE, 1, ("r", "phi"), DENSE, lambda p, c, t: matrices.displacement(p[0], p[1], c, t)),
    OperationSpec("s", GATE, 1, ("r", "phi"), DENSE, lambda p, c, t: matrices.squeezing(p[0], p[1], c, t)),
    OperationSpec("r", GATE, 1, ("phi",), DIAGONAL, lambda p, c, t: matrices.rotation(p[0], c, t)),
    OperationSpec("k", GATE, 1, ("kappa",), DIAGONAL, lambda p, c, t: matrices.kerr(p[0], c, t)),
    OperationSpec("bs", GATE, 2, ("theta", "phi"), DENSE, lambda p, c, t: matrices.beamsplitter(p[0], p[1], c, t)),
    OperationSpec("mz", GATE, 2, ("phi_in", "phi_ex"), DENSE, lambda p, c, t: matrices.mach_zehnder(p[0], p[1], c, t)),
    OperationSpec("s2", GATE, 2, ("r", "phi"), DENSE, lambda p, c, t: matrices.two_mode_squeezing(p[0], p[1], c, t)),
    OperationSpec("ck", GATE, 2, ("kappa",), DIAGONAL, lambda p, c, t: matrices.cross_kerr(p[0], c, t)),
    OperationSpec("loss", CHANNEL, 1, ("T",), DENSE, lambda p, c, t: matrices.loss_superoperator(p[0], c, t)),
]}


@dataclass(frozen=True, eq=False)
class Operation:
    """An operation on ``modes`` with ``params`` (angles) and, for fock/ket, fixed ``data``."""

    name: str
    modes: tuple[int, ...]
    params: tuple[Angle, ...] = ()
    data: Any = None

    @property
    def spec(self) -> OperationSpec:
        return SPECS[self.name]

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p for p in self.params if isinstance(p, str))

    def _key(self) -> tuple:
        data = angle_key(self.data) if isinstance(self.data, torch.Tensor) else self.data
        return (self.name, self.modes, tuple(angle_key(p) for p in self.params), data)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Operation) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        args = [_format(p) for p in self.params] + ([] if self.data is None else [_format(self.data)])
        modes = ", ".join(map(str, self.modes))
        return f"{self.name}({', '.join(args)})[{modes}]" if args else f"{self.name}[{modes}]"


def _format(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, torch.Tensor):
        return f"tensor{tuple(value.shape)}" if value.dim() else f"{value.item():.6g}"
    return str(value)
