"""The qubit circuit: a list of operations on ``n_qubits`` qubits, built with gate methods.

Execution methods (``expval``, ``probs``, ``sample``, ``statevector``) delegate to ``qvec.execute``,
imported when called, so that the IR imports no engine and no backend.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence, Union

import torch

from qvec.errors import InputError

from .gates import gate_definition
from .observables import Observable
from .operation import Operation
from .parameters import Angle, ParamValue, ScaledParameter, angle_key, check_angle, scale_angle
from .specs import CircuitSpecs, circuit_specs

if TYPE_CHECKING:
    from qvec.backends.base import RunsQubitBatches

    from .qasm_layout import QasmLayout

__all__ = ["Circuit"]

Params = Mapping[str, ParamValue] | None
BackendLike = Union["RunsQubitBatches", str, None]

# How each gate is undone: gates that are their own inverse, pairs of inverse gates, and gates
# whose inverse negates their one angle; ``u`` and ``iswap`` are handled in ``_inverse``.
_SELF_INVERSE = frozenset({"h", "x", "y", "z", "cx", "cy", "cz", "ch", "swap", "ccx", "cswap"})
_INVERSE_GATES = {"s": "sdg", "sdg": "s", "t": "tdg", "tdg": "t", "sx": "sxdg", "sxdg": "sx"}
_NEGATED_ANGLE = frozenset({"rx", "ry", "rz", "p", "cp", "crx", "cry", "crz", "rxx", "ryy", "rzz"})


def _inverse(op: Operation) -> list[Operation]:
    """Operations that undo ``op`` exactly (global phase included)."""
    if op.gate in _SELF_INVERSE:
        return [op]
    if op.gate in _INVERSE_GATES:
        return [Operation(_INVERSE_GATES[op.gate], op.wires)]
    if op.gate in _NEGATED_ANGLE:
        return [Operation(op.gate, op.wires, (scale_angle(op.angles[0], -1.0),))]
    if op.gate == "u":  # U(theta, phi, lam)^-1 = U(-theta, -lam, -phi)
        theta, phi, lam = op.angles
        return [Operation("u", op.wires, tuple(scale_angle(a, -1.0) for a in (theta, lam, phi)))]
    if op.gate == "iswap":  # iswap^2 = Z (x) Z, so iswap^-1 = iswap^3 = (Z (x) Z) iswap
        return [op, Operation("z", op.wires[:1]), Operation("z", op.wires[1:])]
    raise InputError(f"gate {op.gate!r} has no inverse defined")  # a gate added to GATES without one


class Circuit:
    """A qubit circuit template. Gate methods take qubit indices first, then angles.

    Circuits compare and hash by content (don't mutate one that is a dict key);
    ``fingerprint()`` is a content hash that is stable across processes.
    """

    def __init__(self, n_qubits: int, operations: Sequence[Operation] = ()) -> None:
        if isinstance(n_qubits, bool) or not isinstance(n_qubits, int) or n_qubits < 1:
            raise InputError(f"n_qubits must be a positive integer, got {n_qubits!r}")
        self.n_qubits = n_qubits
        self._operations: list[Operation] = []
        self._parameters: list[str] | None = None  # derived from the operations; reset by append
        self._tensor_angles: list[torch.Tensor] | None = None
        # How the OpenQASM file it was read from names registers, measures and calls its own gates (for
        # ``to_qasm``); not part of the circuit's content: equality, hash and fingerprint ignore it.
        self.qasm_layout: QasmLayout | None = None
        for op in operations:
            self.append(op.gate, op.wires, op.angles)

    @classmethod
    def _from_checked(cls, n_qubits: int, operations: list[Operation]) -> Circuit:
        """A circuit of operations already checked for a circuit of ``n_qubits`` (a bound row of a checked
        template): no second validation. The list is taken, not copied."""
        circuit = cls(n_qubits)
        circuit._operations = operations
        return circuit

    # -- building -------------------------------------------------------------------------
    def append(self, gate: str, wires: Sequence[int], angles: Sequence[Angle] = ()) -> Circuit:
        """Append one gate after checking its wires and angles; returns the circuit for chaining."""
        definition = gate_definition(gate)
        wires = tuple(wires)
        if len(wires) != definition.n_qubits:
            raise InputError(f"gate {gate!r} acts on {definition.n_qubits} qubit(s), got wires {wires}")
        for wire in wires:
            if isinstance(wire, bool) or not isinstance(wire, int) or not 0 <= wire < self.n_qubits:
                raise InputError(f"qubit {wire!r} of gate {gate!r} is out of range for a {self.n_qubits}-qubit circuit")
        repeated = [wire for wire in wires if wires.count(wire) > 1]
        if repeated:
            raise InputError(f"gate {gate!r} names qubit {repeated[0]} twice in wires {wires}")
        if len(angles) != definition.n_params:
            raise InputError(f"gate {gate!r} takes {definition.n_params} angle(s), got {len(angles)}")
        checked = tuple(a if isinstance(a, ScaledParameter) else check_angle(a, f"angle {i} of {gate} on qubits {wires}")
                        for i, a in enumerate(angles))
        self._operations.append(Operation(gate, wires, checked))
        self._parameters = self._tensor_angles = None
        return self

    def h(self, q: int) -> Circuit: return self.append("h", (q,))
    def x(self, q: int) -> Circuit: return self.append("x", (q,))
    def y(self, q: int) -> Circuit: return self.append("y", (q,))
    def z(self, q: int) -> Circuit: return self.append("z", (q,))
    def s(self, q: int) -> Circuit: return self.append("s", (q,))
    def sdg(self, q: int) -> Circuit: return self.append("sdg", (q,))
    def t(self, q: int) -> Circuit: return self.append("t", (q,))
    def tdg(self, q: int) -> Circuit: return self.append("tdg", (q,))
    def sx(self, q: int) -> Circuit: return self.append("sx", (q,))
    def sxdg(self, q: int) -> Circuit: return self.append("sxdg", (q,))
    def rx(self, q: int, theta: Angle) -> Circuit: return self.append("rx", (q,), (theta,))
    def ry(self, q: int, theta: Angle) -> Circuit: return self.append("ry", (q,), (theta,))
    def rz(self, q: int, theta: Angle) -> Circuit: return self.append("rz", (q,), (theta,))
    def p(self, q: int, lam: Angle) -> Circuit: return self.append("p", (q,), (lam,))

    def u(self, q: int, theta: Angle, phi: Angle, lam: Angle) -> Circuit:
        return self.append("u", (q,), (theta, phi, lam))

    def u1(self, q: int, lam: Angle) -> Circuit:
        """qelib1's ``u1``: the phase gate ``p``."""
        return self.append("p", (q,), (lam,))

    def u2(self, q: int, phi: Angle, lam: Angle) -> Circuit:
        """qelib1's ``u2(phi, lambda)`` = ``u(pi/2, phi, lambda)``."""
        return self.append("u", (q,), (math.pi / 2, phi, lam))

    def u3(self, q: int, theta: Angle, phi: Angle, lam: Angle) -> Circuit:
        """qelib1's ``u3``: the gate ``u``."""
        return self.append("u", (q,), (theta, phi, lam))

    def cx(self, control: int, target: int) -> Circuit: return self.append("cx", (control, target))
    def cy(self, control: int, target: int) -> Circuit: return self.append("cy", (control, target))
    def cz(self, control: int, target: int) -> Circuit: return self.append("cz", (control, target))
    def ch(self, control: int, target: int) -> Circuit: return self.append("ch", (control, target))
    def swap(self, a: int, b: int) -> Circuit: return self.append("swap", (a, b))
    def iswap(self, a: int, b: int) -> Circuit: return self.append("iswap", (a, b))
    def cp(self, control: int, target: int, lam: Angle) -> Circuit: return self.append("cp", (control, target), (lam,))

    def cu1(self, control: int, target: int, lam: Angle) -> Circuit:
        """qelib1's ``cu1``: the controlled phase ``cp``."""
        return self.append("cp", (control, target), (lam,))

    def crx(self, control: int, target: int, theta: Angle) -> Circuit: return self.append("crx", (control, target), (theta,))
    def cry(self, control: int, target: int, theta: Angle) -> Circuit: return self.append("cry", (control, target), (theta,))
    def crz(self, control: int, target: int, theta: Angle) -> Circuit: return self.append("crz", (control, target), (theta,))
    def rxx(self, a: int, b: int, theta: Angle) -> Circuit: return self.append("rxx", (a, b), (theta,))
    def ryy(self, a: int, b: int, theta: Angle) -> Circuit: return self.append("ryy", (a, b), (theta,))
    def rzz(self, a: int, b: int, theta: Angle) -> Circuit: return self.append("rzz", (a, b), (theta,))
    def ccx(self, c1: int, c2: int, target: int) -> Circuit: return self.append("ccx", (c1, c2, target))
    def cswap(self, control: int, a: int, b: int) -> Circuit: return self.append("cswap", (control, a, b))

    # -- transforming ---------------------------------------------------------------------
    def copy(self) -> Circuit:
        """An independent circuit with the same operations (tensor angles are shared, not cloned)."""
        return Circuit(self.n_qubits, self._operations)

    def inverse(self) -> Circuit:
        """The adjoint circuit: operations in reverse order, each undone (angles negated, named ones
        as ``-theta``), so that ``c.compose(c.inverse())`` is the identity, global phase included."""
        return Circuit(self.n_qubits, [inv for op in reversed(self._operations) for inv in _inverse(op)])

    def compose(self, other: Circuit, wires: Sequence[int] | None = None) -> Circuit:
        """A new circuit: this one followed by ``other``, whose qubit ``i`` acts on ``wires[i]``
        (by default qubit ``i`` of this circuit)."""
        if not isinstance(other, Circuit):
            raise InputError(f"compose takes a qubit Circuit, got {type(other).__name__}")
        if wires is None and other.n_qubits > self.n_qubits:
            raise InputError(f"compose: the other circuit has {other.n_qubits} qubits, this one {self.n_qubits}; "
                             "pass wires= to place it")
        wires = tuple(range(other.n_qubits)) if wires is None else tuple(wires)
        if len(wires) != other.n_qubits:
            raise InputError(f"compose: wires {wires} must name one qubit for each of the other circuit's {other.n_qubits}")
        if len(set(wires)) != len(wires) or not all(isinstance(w, int) and 0 <= w < self.n_qubits for w in wires):
            raise InputError(f"compose: wires {wires} must be distinct qubits of this {self.n_qubits}-qubit circuit")
        mapped = [Operation(op.gate, tuple(wires[w] for w in op.wires), op.angles) for op in other]
        return Circuit(self.n_qubits, [*self._operations, *mapped])

    # -- inspection -----------------------------------------------------------------------
    @property
    def operations(self) -> tuple[Operation, ...]:
        return tuple(self._operations)

    @property
    def parameters(self) -> list[str]:
        """Parameter names in order of first use."""
        if self._parameters is None:
            self._parameters = list(dict.fromkeys(n for op in self._operations for n in op.parameter_names))
        return list(self._parameters)

    def tensor_angles(self) -> list[torch.Tensor]:
        """The tensors written into gates directly, in order of appearance."""
        if self._tensor_angles is None:
            self._tensor_angles = [a for op in self._operations for a in op.angles if isinstance(a, torch.Tensor)]
        return list(self._tensor_angles)

    def specs(self) -> CircuitSpecs:
        """Qubits, number of operations, depth, gate counts and parameter names."""
        return circuit_specs(self.n_qubits, self._operations, self.parameters)

    def __len__(self) -> int:
        return len(self._operations)

    def __iter__(self) -> Iterator[Operation]:
        return iter(self._operations)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Circuit) and (self.n_qubits, self._operations) == (other.n_qubits, other._operations)

    def __hash__(self) -> int:
        return hash((self.n_qubits, tuple(self._operations)))

    def fingerprint(self) -> str:
        """A SHA-256 of the circuit's content, stable across processes and machines."""
        content = [self.n_qubits, [[op.gate, list(op.wires), [angle_key(a) for a in op.angles]] for op in self._operations]]
        return hashlib.sha256(json.dumps(content, separators=(",", ":")).encode()).hexdigest()

    def __repr__(self) -> str:
        return f"Circuit(n_qubits={self.n_qubits}, operations={len(self._operations)})"

    def __str__(self) -> str:
        return "\n".join([repr(self), *(f"  {op!r}" for op in self._operations)])

    # -- execution ------------------------------------------------------------------------
    # Each delegates to ``qvec.execute`` (imported when called: the IR imports no engine and no backend).
    # ``backend`` is a backend object or a name ("local", "ionq"); None is the local simulator.
    def expval(self, observables: Observable | Sequence[Observable], params: Params = None, *,
               dtype: torch.dtype = torch.complex64, device: Any = None, backend: BackendLike = None) -> torch.Tensor:
        """Expectation values ``[B, len(observables)]`` of Pauli strings (``"Z0 Z1"``) or weighted sums of
        them (``"0.5*Z0 Z1 - 0.2*X0"``, ``qvec.Hamiltonian``); each distinct string is measured once.
        Gradients: autograd locally, parameter shift on a backend without native gradients."""
        from qvec.execute import Expval, execute
        return execute(self, params, Expval(observables), backend=backend, dtype=dtype, device=device)

    def probs(self, params: Params = None, *, dtype: torch.dtype = torch.complex64, device: Any = None,
              backend: BackendLike = None) -> torch.Tensor:
        """Basis-state probabilities ``[B, 2**n]``, qubit 0 the least significant bit."""
        from qvec.execute import Probs, execute
        return execute(self, params, Probs(), backend=backend, dtype=dtype, device=device)

    def sample(self, shots: int, params: Params = None, *, seed: int | None = None, dtype: torch.dtype = torch.complex64,
               device: Any = None, backend: BackendLike = None) -> torch.Tensor:
        """Measured basis states ``[B, shots]`` as integers (qubit 0 the least significant bit)."""
        from qvec.execute import Samples, execute
        return execute(self, params, Samples(shots), backend=backend, seed=seed, dtype=dtype, device=device)

    def statevector(self, params: Params = None, *, dtype: torch.dtype = torch.complex64,
                    device: Any = None) -> torch.Tensor:
        """The final states ``[B, 2**n]`` (complex, qubit 0 the least significant bit) of the local
        simulator; gradients flow to parameters that require them."""
        from qvec.execute import statevector
        return statevector(self, params, dtype=dtype, device=device)
