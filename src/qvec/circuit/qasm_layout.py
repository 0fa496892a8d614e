"""How a circuit read from OpenQASM 2 was written: register names, measurements and calls of the
file's own gates. Plain data that ``to_qasm`` uses to write the program back in the file's terms;
the circuit itself holds only the flattened operations, which alone define equality and simulation."""

from __future__ import annotations

from dataclasses import dataclass

from .operation import Operation

__all__ = ["GateText", "GateCall", "QasmLayout"]


@dataclass(frozen=True)
class GateText:
    """A ``gate`` definition of the file: its source text and the file's gates its body calls."""

    name: str
    text: str
    calls: tuple[str, ...]


@dataclass(frozen=True)
class GateCall:
    """One call ``name(args) wires`` of a file-defined gate, which became ``operations`` from index ``start``."""

    name: str
    args: tuple[float, ...]
    wires: tuple[int, ...]
    start: int
    operations: tuple[Operation, ...]


@dataclass(frozen=True)
class QasmLayout:
    """Registers ``(name, size)`` in declaration order, measurements ``(qubit, creg, bit)`` in file
    order, the file's gate definitions and the calls of them."""

    qregs: tuple[tuple[str, int], ...]
    cregs: tuple[tuple[str, int], ...]
    measurements: tuple[tuple[int, str, int], ...] = ()
    definitions: tuple[GateText, ...] = ()
    calls: tuple[GateCall, ...] = ()

    @property
    def n_qubits(self) -> int:
        return sum(size for _, size in self.qregs)

    def qubit_names(self) -> list[str]:
        """``name[k]`` for each flat qubit index."""
        return [f"{name}[{k}]" for name, size in self.qregs for k in range(size)]
