"""OpenQASM 2 export and import of qubit circuits.

``to_qasm`` writes only the gates of the standard qelib1.inc (the one of the OpenQASM 2 paper,
which every reader has, Qiskit's default loader included), and a ``gate`` definition for each
IR gate outside it (``sx``, ``swap``, ``rxx``, ...); ``parse_qasm`` and ``load_qasm`` read a
program back. Angles are written with ``repr`` so that exporting and loading gives an equal circuit.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Mapping

import torch

from qvec.errors import InputError

from .circuit import Circuit
from .operation import Operation
from .parameters import Angle, ScaledParameter
from .qasm_gates import EXPORT_DEFINITIONS, EXPORT_NAMES
from .qasm_parser import parse_program

__all__ = ["to_qasm", "parse_qasm", "load_qasm"]

_HEADER = ('OPENQASM 2.0;', 'include "qelib1.inc";')


def to_qasm(circuit: Circuit, params: Mapping[str, float] | None = None, *, measure: bool = False) -> str:
    """The circuit as an OpenQASM 2 program; named angles take their values from ``params``.

    ``measure=True`` adds ``creg c[n]`` and measures every qubit into it (``q[i] -> c[i]``), as
    readers that run the program on hardware expect.
    """
    used = {op.gate for op in circuit}
    definitions = [EXPORT_DEFINITIONS[gate] for gate in sorted(used & EXPORT_DEFINITIONS.keys())]
    registers = [f"qreg q[{circuit.n_qubits}];", *([f"creg c[{circuit.n_qubits}];"] if measure else [])]
    statements = [_statement(op, params or {}) for op in circuit]
    measurements = ["measure q -> c;"] if measure else []
    return "\n".join([*_HEADER, *definitions, *registers, *statements, *measurements]) + "\n"


def parse_qasm(text: str, filename: str = "<string>") -> Circuit:
    """Read an OpenQASM 2 program; errors name ``filename``, the line and the token."""
    return parse_program(text, filename)


def load_qasm(path: str | PathLike[str]) -> Circuit:
    """Read an OpenQASM 2 file into a circuit."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read OpenQASM file ({exc})") from None
    return parse_program(text, str(path))


def _statement(op: Operation, params: Mapping[str, float]) -> str:
    wires = ",".join(f"q[{wire}]" for wire in op.wires)
    name = EXPORT_NAMES.get(op.gate, op.gate)
    if not op.angles:
        return f"{name} {wires};"
    angles = ",".join(_angle_text(angle, index, op, params) for index, angle in enumerate(op.angles))
    return f"{name}({angles}) {wires};"


def _angle_text(angle: Angle, index: int, op: Operation, params: Mapping[str, float]) -> str:
    """A number that reads back as the same float: QASM 2 has no free parameters."""
    where = f"angle {index} of {op!r}"
    scale = 1.0
    if isinstance(angle, ScaledParameter):
        angle, scale = angle.name, angle.scale
    if isinstance(angle, str):
        if angle not in params:
            raise InputError(f"cannot export to OpenQASM: parameter {angle!r} ({where}) has no value; pass params={{{angle!r}: value}}")
        angle = params[angle]
    if isinstance(angle, torch.Tensor):
        if angle.dim() != 0:
            raise InputError(f"cannot export to OpenQASM: {where} is a per-row tensor of shape {tuple(angle.shape)}; "
                             "only scalar angles can be written")
        angle = angle.item()
    if isinstance(angle, bool) or not isinstance(angle, (int, float)):
        raise InputError(f"cannot export to OpenQASM: value {angle!r} for {where} is not a number")
    return repr(scale * float(angle))
