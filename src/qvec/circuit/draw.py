"""A text diagram of a qubit circuit: one wire per qubit, gates in columns (``qvec.draw``).

A gate occupies the qubits from its lowest to its highest wire, so vertical connectors never
cross another gate; gates that fit side by side share a column. Angles show as parameter
names (``-theta`` in an inverted circuit) or values.

    q0: ─H──●─────────
            │
    q1: ────X──RY(a)──
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from .operation import Operation
from .parameters import Angle
from .specs import schedule

if TYPE_CHECKING:
    from .circuit import Circuit

__all__ = ["draw"]

_NAMES = {"sdg": "S†", "tdg": "T†", "sx": "√X", "sxdg": "√X†", "iswap": "iSWAP"}
# Controlled gates: how many leading wires are controls, and the gate drawn on the targets.
_CONTROLLED = {"cx": (1, "x"), "cy": (1, "y"), "cz": (1, "z"), "ch": (1, "h"), "crx": (1, "rx"), "cry": (1, "ry"),
               "crz": (1, "rz"), "cp": (1, "p"), "ccx": (2, "x"), "cswap": (1, "swap")}
_CONTROL, _SWAP_END, _WIRE, _LINE, _CROSS = "●", "x", "─", "│", "┼"


def _angle_text(angle: Angle) -> str:
    if isinstance(angle, torch.Tensor):
        return f"{angle.item():.4g}" if angle.dim() == 0 else f"tensor[{angle.shape[0]}]"
    return f"{angle:.4g}" if isinstance(angle, float) else str(angle)


def _labels(op: Operation) -> dict[int, str]:
    """The text drawn on each wire the operation acts on."""
    n_controls, target = _CONTROLLED.get(op.gate, (0, op.gate))
    controls, targets = op.wires[:n_controls], op.wires[n_controls:]
    if target == "swap":
        name = _SWAP_END
    else:
        name = _NAMES.get(target, target.upper())
        if op.angles:
            name += "(" + ",".join(_angle_text(a) for a in op.angles) + ")"
    return {**{w: _CONTROL for w in controls}, **{w: name for w in targets}}


def _span(op: Operation) -> range:
    return range(min(op.wires), max(op.wires) + 1)


def _column(ops: list[Operation], n_qubits: int) -> list[str]:
    """The cells of one column, top to bottom: wire rows and the gaps between them."""
    labels = {w: text for op in ops for w, text in _labels(op).items()}
    width = max(map(len, labels.values())) + 2
    width += 1 - width % 2  # odd, so that a one-character label and a connector share the middle
    spans = [(min(op.wires), max(op.wires)) for op in ops if len(op.wires) > 1]
    cells = []
    for row in range(2 * n_qubits - 1):
        wire, in_gap = divmod(row, 2)
        crossed = any(low <= wire < high if in_gap else low < wire < high for low, high in spans)
        if in_gap:
            cells.append(_LINE.center(width) if crossed else " " * width)
        elif wire in labels:
            cells.append(labels[wire].center(width, _WIRE))
        else:
            cells.append((_CROSS if crossed else _WIRE).center(width, _WIRE))
    return cells


def draw(circuit: Circuit) -> str:
    """The circuit as a text diagram: ``print(qvec.draw(circuit))``."""
    steps = schedule(circuit.operations, _span)
    columns: list[list[Operation]] = [[] for _ in range(max(steps, default=-1) + 1)]
    for op, step in zip(circuit.operations, steps):
        columns[step].append(op)
    cells = [_column(ops, circuit.n_qubits) for ops in columns]
    names = [f"q{q}: " for q in range(circuit.n_qubits)]
    margin = max(map(len, names))
    rows = []
    for row in range(2 * circuit.n_qubits - 1):
        wire, in_gap = divmod(row, 2)
        head = " " * margin if in_gap else names[wire].rjust(margin)
        body = "".join(column[row] for column in cells)
        rows.append((head + body + ("" if in_gap else _WIRE)).rstrip())
    return "\n".join(rows)
