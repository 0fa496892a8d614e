"""Conversion between qvec circuits and the IonQ API's circuit JSON (``qis`` and ``native`` gate sets).

``ionq_gates`` writes a concrete circuit (float angles) in the QIS gate set, decomposing the gates
IonQ lacks (``p``, ``u``, ``cp``, ``ch``, ``cswap``, ``iswap``) up to a global phase. ``circuit_from_ionq`` reads what clients send,
both the ``target``/``control`` and the ``targets``/``controls`` spellings, and the native gates
(angles in turns), for the emulator.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from qvec.errors import InputError

from .circuit import Circuit
from .operation import Operation

__all__ = ["ionq_gates", "circuit_from_ionq"]

Gate = dict[str, Any]

_PLAIN = {"h": "h", "x": "x", "y": "y", "z": "z", "s": "s", "sdg": "si", "t": "t", "tdg": "ti", "sx": "v", "sxdg": "vi",
          "swap": "swap"}
_ROTATIONS = {"rx": "rx", "ry": "ry", "rz": "rz", "rxx": "xx", "ryy": "yy", "rzz": "zz"}
_CONTROLLED = {"cx": "x", "cy": "y", "cz": "z", "crx": "rx", "cry": "ry", "crz": "rz", "ccx": "x"}


def _angle(op: Operation, index: int = 0) -> float:
    value = op.angles[index]
    if not isinstance(value, (int, float)):
        raise InputError(f"gate {op!r} has an unbound angle {value!r}; bind parameters before compiling for IonQ")
    return float(value)


# Gates IonQ lacks, as IR operations on wires (a, b, ...) given the angles.
_DECOMPOSITIONS: dict[str, Callable[[tuple[int, ...], tuple[float, ...]], list[Operation]]] = {
    "cp": lambda w, a: [Operation("p", (w[0],), (a[0] / 2,)), Operation("cx", w), Operation("p", (w[1],), (-a[0] / 2,)),
                        Operation("cx", w), Operation("p", (w[1],), (a[0] / 2,))],
    "ch": lambda w, a: [Operation("ry", (w[1],), (math.pi / 4,)), Operation("cx", w), Operation("ry", (w[1],), (-math.pi / 4,))],
    "cswap": lambda w, a: [Operation("cx", (w[2], w[1])), Operation("ccx", w), Operation("cx", (w[2], w[1]))],
    "iswap": lambda w, a: [Operation("s", (w[0],)), Operation("s", (w[1],)), Operation("h", (w[0],)), Operation("cx", w),
                           Operation("cx", (w[1], w[0])), Operation("h", (w[1],))],
}


def _plain(name: str) -> Callable[[Operation], list[Gate]]:
    return lambda op: [{"gate": name, "targets": list(op.wires)}]


def _rotation(name: str) -> Callable[[Operation], list[Gate]]:
    return lambda op: [{"gate": name, "targets": list(op.wires), "rotation": _angle(op)}]


def _controlled(name: str, rotation: bool) -> Callable[[Operation], list[Gate]]:
    if rotation:
        return lambda op: [{"gate": name, "controls": list(op.wires[:-1]), "targets": [op.wires[-1]],
                            "rotation": _angle(op)}]
    return lambda op: [{"gate": name, "controls": list(op.wires[:-1]), "targets": [op.wires[-1]]}]


def _u(op: Operation) -> list[Gate]:
    theta, phi, lam = _angle(op, 0), _angle(op, 1), _angle(op, 2)
    return [{"gate": name, "targets": list(op.wires), "rotation": value} for name, value in (("rz", lam), ("ry", theta), ("rz", phi))]


def _decomposed(op: Operation) -> list[Gate]:
    angles = tuple(_angle(op, i) for i in range(len(op.angles)))
    return [gate for part in _DECOMPOSITIONS[op.gate](op.wires, angles) for gate in _gate(part)]


# Each IR gate's IonQ QIS gates, by gate name (one lookup per operation).
_EMITTERS: dict[str, Callable[[Operation], list[Gate]]] = {
    **{gate: _plain(name) for gate, name in _PLAIN.items()},
    **{gate: _rotation(name) for gate, name in _ROTATIONS.items()},
    **{gate: _controlled(name, gate.startswith("cr")) for gate, name in _CONTROLLED.items()},
    "p": _rotation("rz"), "u": _u, **{gate: _decomposed for gate in _DECOMPOSITIONS},
}


def _gate(op: Operation) -> list[Gate]:
    """The IonQ QIS gates for one operation."""
    emit = _EMITTERS.get(op.gate)
    if emit is None:
        raise InputError(f"gate {op.gate!r} has no IonQ translation")
    return emit(op)


def ionq_gates(circuit: Circuit) -> list[Gate]:
    """The circuit as a list of IonQ QIS gates (angles in radians under ``rotation``)."""
    gates: list[Gate] = []
    for op in circuit:
        gates.extend(_gate(op))
    return gates


# -- reading ----------------------------------------------------------------------------------

def _wires(gate: Mapping[str, Any], one: str, many: str) -> list[int]:
    if many in gate:
        value = gate[many]
        return list(value) if isinstance(value, list) else [value]
    return [gate[one]] if one in gate else []


def _number(gate: Mapping[str, Any], field: str, default: float | None = None) -> float:
    value = gate.get(field, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"gate {gate.get('gate')!r} needs a finite number in {field!r}, got {value!r}")
    return float(value)


_QIS_SINGLE = {"h": "h", "x": "x", "not": "x", "y": "y", "z": "z", "s": "s", "si": "sdg", "t": "t", "ti": "tdg", "v": "sx"}
_QIS_ROTATION = {"rx": "rx", "ry": "ry", "rz": "rz", "xx": "rxx", "yy": "ryy", "zz": "rzz"}
_QIS_ONE_CONTROL = {"x": "cx", "not": "cx", "cnot": "cx", "y": "cy", "z": "cz", "rx": "crx", "ry": "cry", "rz": "crz"}


def _add_qis(circuit: Circuit, gate: Mapping[str, Any]) -> None:
    name = gate.get("gate")
    targets = _wires(gate, "target", "targets")
    controls = _wires(gate, "control", "controls")
    angles = (_number(gate, "rotation"),) if name in _QIS_ROTATION else ()
    if name == "vi" and not controls:
        circuit.rx(targets[0], -math.pi / 2)
    elif not controls and name in _QIS_SINGLE:
        circuit.append(_QIS_SINGLE[name], targets)
    elif not controls and name in _QIS_ROTATION:
        circuit.append(_QIS_ROTATION[name], targets, angles)
    elif not controls and name == "swap":
        circuit.swap(*targets)
    elif len(controls) == 1 and name in _QIS_ONE_CONTROL:
        circuit.append(_QIS_ONE_CONTROL[name], controls + targets, angles)
    elif len(controls) == 2 and name in ("x", "not", "cnot"):
        circuit.ccx(controls[0], controls[1], targets[0])
    else:
        raise InputError(f"unsupported gate {dict(gate)!r}")


def _add_native(circuit: Circuit, gate: Mapping[str, Any]) -> None:
    """Native gates, phases and angles in turns: gpi, gpi2, ms (angle 0.25 by default), zz."""
    name = gate.get("gate")
    targets = _wires(gate, "target", "targets")
    turn = 2 * math.pi
    if name == "gpi":
        phi = turn * _number(gate, "phase")
        circuit.u(targets[0], math.pi, phi, math.pi - phi)
    elif name == "gpi2":
        phi = turn * _number(gate, "phase")
        circuit.rz(targets[0], -phi).rx(targets[0], math.pi / 2).rz(targets[0], phi)
    elif name == "ms":
        phases = gate.get("phases", [0.0, 0.0])
        phis = [turn * _number({"gate": "ms", "phase": p}, "phase") for p in phases]
        a, b = targets
        circuit.rz(a, -phis[0]).rz(b, -phis[1]).rxx(a, b, turn * _number(gate, "angle", 0.25)).rz(a, phis[0]).rz(b, phis[1])
    elif name == "zz":
        circuit.rzz(targets[0], targets[1], turn * _number(gate, "angle"))
    else:
        raise InputError(f"unsupported native gate {dict(gate)!r}")


_READERS: dict[str, Callable[[Circuit, Mapping[str, Any]], None]] = {"qis": _add_qis, "native": _add_native}


def circuit_from_ionq(gates: Sequence[Mapping[str, Any]], n_qubits: int, gateset: str = "qis") -> Circuit:
    """A qvec circuit from IonQ circuit JSON; ``InputError`` names the first gate it cannot read."""
    if gateset not in _READERS:
        raise InputError(f"unknown gateset {gateset!r}; expected 'qis' or 'native'")
    circuit = Circuit(n_qubits)
    for index, gate in enumerate(gates):
        if not isinstance(gate, Mapping):
            raise InputError(f"gate {index} is not an object: {gate!r}")
        try:
            _READERS[gateset](circuit, gate)
        except (InputError, ValueError, KeyError, IndexError, TypeError) as exc:
            raise InputError(f"gate {index} ({gate.get('gate')!r}): {exc}") from None
    return circuit
