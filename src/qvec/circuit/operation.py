"""One gate applied to some qubits with some angles: the unit a circuit is made of."""

from __future__ import annotations

from dataclasses import dataclass

from .gates import GateDefinition, gate_definition
from .parameters import Angle, ScaledParameter, angle_key

__all__ = ["Operation"]


@dataclass(frozen=True, eq=False)
class Operation:
    """A gate on ``wires`` with ``angles``; compares and hashes by value, tensors included."""

    gate: str
    wires: tuple[int, ...]
    angles: tuple[Angle, ...] = ()

    @property
    def definition(self) -> GateDefinition:
        return gate_definition(self.gate)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(a if isinstance(a, str) else a.name for a in self.angles if isinstance(a, (str, ScaledParameter)))

    def _key(self) -> tuple:
        return (self.gate, self.wires, tuple(angle_key(a) for a in self.angles))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Operation) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        angles = ", ".join(_format_angle(a) for a in self.angles)
        wires = ", ".join(map(str, self.wires))
        return f"{self.gate}({angles})[{wires}]" if angles else f"{self.gate}[{wires}]"


def _format_angle(angle: Angle) -> str:
    if isinstance(angle, (str, ScaledParameter)):
        return str(angle)
    if isinstance(angle, float):
        return f"{angle:.6g}"
    return f"tensor{tuple(angle.shape)}" if angle.dim() else f"{angle.item():.6g}"
