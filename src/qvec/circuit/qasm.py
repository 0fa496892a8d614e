"""OpenQASM 2 export and import of qubit circuits.

``to_qasm`` writes only the gates of the standard qelib1.inc (the one of the OpenQASM 2 paper,
which every reader has, Qiskit's default loader included), and a ``gate`` definition for each
IR gate outside it (``sx``, ``swap``, ``rxx``, ...); ``parse_qasm`` and ``load_qasm`` read a
program back. Angles are written with ``repr`` so that exporting and loading gives an equal circuit.
A circuit read from a file is written back with the file's registers, measurements and calls of its
own gates (``circuit.qasm_layout``), except where the circuit no longer matches them.
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
from .qasm_layout import GateCall, QasmLayout
from .qasm_parser import parse_program

__all__ = ["to_qasm", "parse_qasm", "load_qasm"]

_HEADER = ('OPENQASM 2.0;', 'include "qelib1.inc";')


def to_qasm(circuit: Circuit, params: Mapping[str, float] | None = None, *, measure: bool | None = None) -> str:
    """The circuit as an OpenQASM 2 program; named angles take their values from ``params``.

    A circuit read from OpenQASM keeps the file's register names, its measurements (unless
    ``measure=False``) and the calls of the file's own gates whose operations are unchanged.
    ``measure=True`` on a circuit without recorded measurements measures every qubit into a new
    classical register (``q[i] -> c[i]``), as readers that run the program on hardware expect.
    """
    layout = circuit.qasm_layout
    if layout is not None and layout.n_qubits != circuit.n_qubits:
        layout = None  # not the file's circuit any more (e.g. built anew with other qubits)
    qubits = layout.qubit_names() if layout else [f"q[{i}]" for i in range(circuit.n_qubits)]
    calls = _intact_calls(circuit, layout)
    used = {op.gate for op in circuit}
    definitions = [EXPORT_DEFINITIONS[gate] for gate in sorted(used & EXPORT_DEFINITIONS.keys())]
    cregs, measurements = _classical(circuit, layout, qubits, measure)
    return "\n".join([*_HEADER, *definitions, *_custom_definitions(layout, calls), *_qregs(circuit, layout), *cregs,
                      *_statements(circuit, calls, qubits, params or {}), *measurements]) + "\n"


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


def _intact_calls(circuit: Circuit, layout: QasmLayout | None) -> list[GateCall]:
    """The file's gate calls whose operations the circuit still has, unchanged, where the file put them."""
    if layout is None:
        return []
    operations = circuit.operations
    return [call for call in layout.calls
            if operations[call.start:call.start + len(call.operations)] == call.operations]


def _custom_definitions(layout: QasmLayout | None, calls: list[GateCall]) -> list[str]:
    """The file's ``gate`` definitions that the written calls need, directly or through another definition."""
    if layout is None:
        return []
    needed = {call.name for call in calls}
    for definition in reversed(layout.definitions):
        if definition.name in needed:
            needed.update(definition.calls)
    return [definition.text for definition in layout.definitions if definition.name in needed]


def _qregs(circuit: Circuit, layout: QasmLayout | None) -> list[str]:
    registers = layout.qregs if layout else (("q", circuit.n_qubits),)
    return [f"qreg {name}[{size}];" for name, size in registers]


def _classical(circuit: Circuit, layout: QasmLayout | None, qubits: list[str],
               measure: bool | None) -> tuple[list[str], list[str]]:
    """The classical registers and the measurements: the file's, or for ``measure=True`` (when the file
    measured nothing) every qubit's, into a new register."""
    if measure is False:
        return [], []
    cregs = list(layout.cregs) if layout else []
    if layout is not None and layout.measurements:
        lines = [f"measure {qubits[qubit]} -> {creg}[{bit}];" for qubit, creg, bit in layout.measurements]
    elif measure:
        taken = {name for name, _ in (*layout.qregs, *cregs)} if layout else {"q"}
        creg = next(name for name in ("c", *(f"c{i}" for i in range(len(taken) + 1))) if name not in taken)
        cregs.append((creg, circuit.n_qubits))
        lines = ([f"measure q -> {creg};"] if layout is None
                 else [f"measure {qubit} -> {creg}[{i}];" for i, qubit in enumerate(qubits)])
    else:
        return [], []
    return [f"creg {name}[{size}];" for name, size in cregs], lines


def _statements(circuit: Circuit, calls: list[GateCall], qubits: list[str], params: Mapping[str, float]) -> list[str]:
    """The operations, with each intact call of a file's gate written as that call."""
    operations = circuit.operations
    lines: list[str] = []
    position = 0
    for call in calls:
        lines.extend(_statement(op, qubits, params) for op in operations[position:call.start])
        angles = f"({','.join(repr(a) for a in call.args)})" if call.args else ""
        lines.append(f"{call.name}{angles} {','.join(qubits[w] for w in call.wires)};")
        position = call.start + len(call.operations)
    lines.extend(_statement(op, qubits, params) for op in operations[position:])
    return lines


def _statement(op: Operation, qubits: list[str], params: Mapping[str, float]) -> str:
    wires = ",".join(qubits[wire] for wire in op.wires)
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
