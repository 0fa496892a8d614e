"""The qubit circuit: a list of operations on ``n_qubits`` qubits, built with gate methods."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, Callable, Hashable, Iterator, Mapping, Sequence

import torch

from qvec.errors import InputError

from .gates import gate_definition
from .operation import Operation
from .parameters import Angle, ParamValue, angle_key, check_angle

if TYPE_CHECKING:
    from qvec.backends.base import Backend

__all__ = ["Circuit"]

Params = Mapping[str, ParamValue] | None


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
        self._memo: dict[Hashable, Any] = {}
        for op in operations:
            self.append(op.gate, op.wires, op.angles)

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
        checked = tuple(check_angle(a, f"angle {i} of {gate} on qubits {wires}") for i, a in enumerate(angles))
        self._operations.append(Operation(gate, wires, checked))
        self._memo.clear()
        return self

    def memo(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """Data derived from this circuit (for engines), computed once and forgotten when the circuit changes."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def h(self, q: int) -> Circuit: return self.append("h", (q,))
    def x(self, q: int) -> Circuit: return self.append("x", (q,))
    def y(self, q: int) -> Circuit: return self.append("y", (q,))
    def z(self, q: int) -> Circuit: return self.append("z", (q,))
    def s(self, q: int) -> Circuit: return self.append("s", (q,))
    def sdg(self, q: int) -> Circuit: return self.append("sdg", (q,))
    def t(self, q: int) -> Circuit: return self.append("t", (q,))
    def tdg(self, q: int) -> Circuit: return self.append("tdg", (q,))
    def sx(self, q: int) -> Circuit: return self.append("sx", (q,))
    def rx(self, q: int, theta: Angle) -> Circuit: return self.append("rx", (q,), (theta,))
    def ry(self, q: int, theta: Angle) -> Circuit: return self.append("ry", (q,), (theta,))
    def rz(self, q: int, theta: Angle) -> Circuit: return self.append("rz", (q,), (theta,))
    def p(self, q: int, lam: Angle) -> Circuit: return self.append("p", (q,), (lam,))

    def u(self, q: int, theta: Angle, phi: Angle, lam: Angle) -> Circuit:
        return self.append("u", (q,), (theta, phi, lam))

    def cx(self, control: int, target: int) -> Circuit: return self.append("cx", (control, target))
    def cy(self, control: int, target: int) -> Circuit: return self.append("cy", (control, target))
    def cz(self, control: int, target: int) -> Circuit: return self.append("cz", (control, target))
    def swap(self, a: int, b: int) -> Circuit: return self.append("swap", (a, b))
    def crx(self, control: int, target: int, theta: Angle) -> Circuit: return self.append("crx", (control, target), (theta,))
    def cry(self, control: int, target: int, theta: Angle) -> Circuit: return self.append("cry", (control, target), (theta,))
    def crz(self, control: int, target: int, theta: Angle) -> Circuit: return self.append("crz", (control, target), (theta,))
    def rxx(self, a: int, b: int, theta: Angle) -> Circuit: return self.append("rxx", (a, b), (theta,))
    def ryy(self, a: int, b: int, theta: Angle) -> Circuit: return self.append("ryy", (a, b), (theta,))
    def rzz(self, a: int, b: int, theta: Angle) -> Circuit: return self.append("rzz", (a, b), (theta,))
    def ccx(self, c1: int, c2: int, target: int) -> Circuit: return self.append("ccx", (c1, c2, target))

    # -- inspection -----------------------------------------------------------------------
    @property
    def operations(self) -> tuple[Operation, ...]:
        return tuple(self._operations)

    @property
    def parameters(self) -> list[str]:
        """Parameter names in order of first use."""
        names = self.memo("parameters", lambda: list(dict.fromkeys(n for op in self._operations for n in op.parameter_names)))
        return list(names)

    def tensor_angles(self) -> list[torch.Tensor]:
        """The tensors written into gates directly, in order of appearance."""
        return list(self.memo("tensor_angles", lambda: [a for op in self._operations for a in op.angles if isinstance(a, torch.Tensor)]))

    def copy(self) -> Circuit:
        return Circuit(self.n_qubits, self._operations)

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
    def expval(self, observables: Sequence[str], params: Params = None, *, dtype: torch.dtype = torch.complex64,
               device: Any = None, backend: Backend | None = None) -> torch.Tensor:
        """Expectation values ``[B, len(observables)]`` of Pauli-string observables."""
        if backend is not None:
            return backend.expval(self, observables, params, dtype=dtype, device=device)
        from qvec import sim
        return sim.expval(self, observables, params, dtype=dtype, device=device)

    def probs(self, params: Params = None, *, dtype: torch.dtype = torch.complex64, device: Any = None,
              backend: Backend | None = None) -> torch.Tensor:
        """Basis-state probabilities ``[B, 2**n]``, qubit 0 the least significant bit."""
        if backend is not None:
            return backend.probs(self, params, dtype=dtype, device=device)
        from qvec import sim
        return sim.probs(self, params, dtype=dtype, device=device)

    def sample(self, shots: int, params: Params = None, *, seed: int | None = None, dtype: torch.dtype = torch.complex64,
               device: Any = None, backend: Backend | None = None) -> torch.Tensor:
        """Measured basis states ``[B, shots]`` as integers (qubit 0 the least significant bit)."""
        if backend is not None:
            return backend.sample(self, shots, params, seed=seed, dtype=dtype, device=device)
        from qvec import sim
        return sim.sample(self, shots, params, seed=seed, dtype=dtype, device=device)
