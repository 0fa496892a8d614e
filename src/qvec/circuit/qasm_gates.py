"""The gates an OpenQASM 2 file can call, and how each becomes gates of the IR.

A QASM gate is either a ``NativeGate`` (one IR gate, angles possibly rearranged: ``u2`` is
``u(pi/2, phi, lambda)``) or a ``DefinedGate`` (a ``gate`` definition, expanded into its body).
qelib1 gates the IR lacks (``cu3``, ``csx``, ``c3x``, ...) are expanded from their definitions in
Qiskit's ``qelib1.inc``, copied below (``QELIB1_DEFINITIONS``).

For export, ``QELIB1_STANDARD`` lists the gates of the qelib1.inc of the OpenQASM 2 paper, the one
every reader has (Qiskit's ``qasm2.loads`` reads exactly these by default); IR gates outside it are
written under a standard name (``EXPORT_NAMES``) or with a ``gate`` definition (``EXPORT_DEFINITIONS``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterator

import torch

from .gates import GATES, gate_matrix
from .qasm_syntax import Expression, Token

__all__ = [
    "IROperation", "NativeGate", "BodyCall", "DefinedGate", "QasmGate", "BUILTIN_GATES", "QELIB1_NATIVE_GATES",
    "QELIB1_DEFINITIONS", "QELIB1_STANDARD", "EXPORT_NAMES", "EXPORT_DEFINITIONS", "is_equivalent",
]

# (IR gate name, wires, angles)
IROperation = tuple[str, tuple[int, ...], tuple[float, ...]]


def _same(angles: tuple[float, ...]) -> tuple[float, ...]:
    return angles


@dataclass(frozen=True)
class NativeGate:
    """A QASM gate that is one IR gate (``ir_name``), or nothing at all when ``ir_name`` is None (``id``)."""

    ir_name: str | None
    n_qubits: int
    n_params: int
    angles: Callable[[tuple[float, ...]], tuple[float, ...]] = _same

    @property
    def size(self) -> int:
        """The number of IR operations one call becomes."""
        return 0 if self.ir_name is None else 1

    def expand(self, args: tuple[float, ...], wires: tuple[int, ...]) -> Iterator[IROperation]:
        if self.ir_name is not None:
            yield self.ir_name, wires, self.angles(args)


@dataclass(frozen=True)
class BodyCall:
    """One statement of a gate body: ``gate`` on the definition's qubits ``qubits`` (indices)."""

    gate: QasmGate
    args: tuple[Expression, ...]
    qubits: tuple[int, ...]
    token: Token


@dataclass(frozen=True)
class DefinedGate:
    """A ``gate name(params) qubits { body }`` definition.

    ``size``, the number of IR operations one call becomes, is counted when the gate is defined (its
    body's gates are defined already), so that a reader can refuse a call before expanding it: ten
    nested definitions that each call the previous one twice expand to 1024 operations.
    """

    name: str
    params: tuple[str, ...]
    n_qubits: int
    body: tuple[BodyCall, ...]
    size: int = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", sum(call.gate.size for call in self.body))

    @property
    def n_params(self) -> int:
        return len(self.params)

    def expand(self, args: tuple[float, ...], wires: tuple[int, ...]) -> Iterator[IROperation]:
        """The IR operations of one call, depth first, with a stack of bodies instead of recursion (definitions
        may nest deeper than Python's stack)."""
        stack = [(iter(self.body), dict(zip(self.params, args)), wires)]
        while stack:
            body, values, outer_wires = stack[-1]
            call = next(body, None)
            if call is None:
                stack.pop()
                continue
            call_args = tuple(arg(values) for arg in call.args)
            call_wires = tuple(outer_wires[i] for i in call.qubits)
            if isinstance(call.gate, DefinedGate):
                stack.append((iter(call.gate.body), dict(zip(call.gate.params, call_args)), call_wires))
            else:
                yield from call.gate.expand(call_args, call_wires)


QasmGate = NativeGate | DefinedGate


def _native(name: str, angles: Callable[[tuple[float, ...]], tuple[float, ...]] = _same, n_params: int | None = None,
            ir_name: str | None = None) -> NativeGate:
    target = GATES[ir_name or name]
    return NativeGate(ir_name or name, target.n_qubits, target.n_params if n_params is None else n_params, angles)


# OpenQASM 2's two built-in gates, available without any include.
BUILTIN_GATES: dict[str, QasmGate] = {"U": _native("U", ir_name="u"), "CX": _native("CX", ir_name="cx")}

# IR gates that no qelib1.inc defines (files that use them carry a ``gate`` definition).
_NOT_IN_QELIB1 = frozenset({"ryy", "iswap"})

# Every other IR gate is in Qiskit's qelib1 under its own name; these are qelib1's aliases of IR gates.
QELIB1_NATIVE_GATES: dict[str, QasmGate] = {
    **{name: _native(name) for name in GATES if name not in _NOT_IN_QELIB1},
    "u3": _native("u3", ir_name="u"),
    "u2": _native("u2", lambda a: (math.pi / 2, a[0], a[1]), n_params=2, ir_name="u"),
    "u1": _native("u1", ir_name="p"),
    "cu1": _native("cu1", ir_name="cp"),
    "cnot": _native("cnot", ir_name="cx"),
    "id": NativeGate(None, 1, 0),
    "u0": NativeGate(None, 1, 1),
}

QELIB1_DEFINITIONS = """
gate cu3(theta,phi,lambda) c,t {
  u1((lambda+phi)/2) c; u1((lambda-phi)/2) t; cx c,t;
  u3(-theta/2,0,-(phi+lambda)/2) t; cx c,t; u3(theta/2,phi,0) t;
}
gate csx a,b { h b; cu1(pi/2) a,b; h b; }
gate cu(theta,phi,lambda,gamma) c,t {
  p(gamma) c; p((lambda+phi)/2) c; p((lambda-phi)/2) t; cx c,t;
  u(-theta/2,0,-(phi+lambda)/2) t; cx c,t; u(theta/2,phi,0) t;
}
gate rccx a,b,c {
  u2(0,pi) c; u1(pi/4) c; cx b,c; u1(-pi/4) c; cx a,c; u1(pi/4) c; cx b,c; u1(-pi/4) c; u2(0,pi) c;
}
gate rc3x a,b,c,d {
  u2(0,pi) d; u1(pi/4) d; cx c,d; u1(-pi/4) d; u2(0,pi) d; cx a,d; u1(pi/4) d; cx b,d; u1(-pi/4) d;
  cx a,d; u1(pi/4) d; cx b,d; u1(-pi/4) d; u2(0,pi) d; u1(pi/4) d; cx c,d; u1(-pi/4) d; u2(0,pi) d;
}
gate c3x a,b,c,d {
  h d; p(pi/8) a; p(pi/8) b; p(pi/8) c; p(pi/8) d;
  cx a,b; p(-pi/8) b; cx a,b; cx b,c; p(-pi/8) c; cx a,c; p(pi/8) c; cx b,c; p(-pi/8) c; cx a,c;
  cx c,d; p(-pi/8) d; cx b,d; p(pi/8) d; cx c,d; p(-pi/8) d; cx a,d; p(pi/8) d; cx c,d; p(-pi/8) d;
  cx b,d; p(pi/8) d; cx c,d; p(-pi/8) d; cx a,d; h d;
}
gate c3sqrtx a,b,c,d {
  h d; cu1(pi/8) a,d; h d; cx a,b; h d; cu1(-pi/8) b,d; h d; cx a,b; h d; cu1(pi/8) b,d; h d;
  cx b,c; h d; cu1(-pi/8) c,d; h d; cx a,c; h d; cu1(pi/8) c,d; h d; cx b,c; h d; cu1(-pi/8) c,d; h d;
  cx a,c; h d; cu1(pi/8) c,d; h d;
}
gate c4x a,b,c,d,e {
  h e; cu1(pi/2) d,e; h e; c3x a,b,c,d; h e; cu1(-pi/2) d,e; h e; c3x a,b,c,d; c3sqrtx a,b,c,e;
}
"""

# The qelib1.inc of the OpenQASM 2 paper: what every reader defines (checked against Qiskit's loader).
QELIB1_STANDARD = frozenset("u3 u2 u1 cx id x y z h s sdg t tdg rx ry rz cz cy ch ccx crz cu1 cu3".split())

# IR gates written under the standard name of the same matrix.
EXPORT_NAMES: dict[str, str] = {"p": "u1", "u": "u3", "cp": "cu1"}

# The other IR gates, defined from standard gates exactly (no global phase, with rz = exp(-i theta Z / 2)).
EXPORT_DEFINITIONS: dict[str, str] = {
    "sx": "gate sx a { h a; s a; h a; }",
    "sxdg": "gate sxdg a { h a; sdg a; h a; }",
    "swap": "gate swap a,b { cx a,b; cx b,a; cx a,b; }",
    "iswap": "gate iswap a,b { s a; s b; h a; cx a,b; cx b,a; h b; }",
    "crx": "gate crx(theta) a,b { u1(pi/2) b; cx a,b; u3(-theta/2,0,0) b; cx a,b; u3(theta/2,-pi/2,0) b; }",
    "cry": "gate cry(theta) a,b { ry(theta/2) b; cx a,b; ry(-theta/2) b; cx a,b; }",
    "rxx": "gate rxx(theta) a,b { h a; h b; cx a,b; rz(theta) b; cx a,b; h a; h b; }",
    "ryy": "gate ryy(theta) a,b { rx(pi/2) a; rx(pi/2) b; cx a,b; rz(theta) b; cx a,b; rx(-pi/2) a; rx(-pi/2) b; }",
    "rzz": "gate rzz(theta) a,b { cx a,b; rz(theta) b; cx a,b; }",
    "cswap": "gate cswap a,b,c { cx c,b; ccx a,b,c; cx c,b; }",
}

_PROBE_ANGLES = ((0.37, -1.21, 2.03), (1.9, 0.45, -0.8))


def is_equivalent(gate: DefinedGate, ir_name: str) -> bool:
    """Whether a definition is the IR gate ``ir_name`` up to a global phase (checked at probe angles)."""
    target = GATES[ir_name]
    if (target.n_qubits, target.n_params) != (gate.n_qubits, gate.n_params):
        return False
    for probe in _PROBE_ANGLES:
        angles = probe[: gate.n_params]
        body = _dense_unitary(gate.n_qubits, gate.expand(angles, tuple(range(gate.n_qubits))))
        overlap = torch.trace(gate_matrix(ir_name, *angles).conj().T @ body).abs() / target.dimension
        if not math.isclose(float(overlap), 1.0, abs_tol=1e-9):
            return False
    return True


def _dense_unitary(n_qubits: int, operations: Iterator[IROperation]) -> torch.Tensor:
    """The ``2**n x 2**n`` unitary of a few operations, wire 0 the most significant bit (as in gate matrices)."""
    unitary = torch.eye(2**n_qubits, dtype=torch.complex128).reshape([2] * n_qubits + [2**n_qubits])
    for name, wires, angles in operations:
        k = len(wires)
        matrix = gate_matrix(name, *angles).reshape([2] * (2 * k))
        unitary = torch.tensordot(matrix, unitary, dims=(list(range(k, 2 * k)), list(wires)))
        unitary = torch.movedim(unitary, list(range(k)), list(wires))
    return unitary.reshape(2**n_qubits, 2**n_qubits)
