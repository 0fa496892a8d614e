"""Gate definitions: the qubit gate set and the matrices that define it.

Each matrix builder is vectorized: it takes angles of shape ``[..., n_params]`` and returns
matrices of shape ``[..., 2**k, 2**k]``, so one call builds every gate of a type in a batch.
Matrices follow the textbook (OpenQASM / Qiskit) convention: for a gate on wires
``(w0, w1, ...)`` the first wire is the most significant bit of the matrix index, so
``cx(control, target)`` is ``[[1,0,0,0],[0,1,0,0],[0,0,0,1],[0,0,1,0]]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

from qvec.errors import InputError

__all__ = ["GateDefinition", "GATES", "gate_definition", "gate_matrix", "pauli_rotations"]

MatrixBuilder = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class GateDefinition:
    """A named gate: how many qubits and angles it takes, and how to build its matrix."""

    name: str
    n_qubits: int
    n_params: int
    build: MatrixBuilder
    diagonal: bool = False
    generator: torch.Tensor | None = None
    """For rotations ``exp(-i theta/2 G)``: the Pauli product G (complex128), else None."""

    @property
    def dimension(self) -> int:
        return 2**self.n_qubits


def _complex(real: torch.Tensor, imag: torch.Tensor, size: int) -> torch.Tensor:
    """Stack flat lists of real and imaginary parts into ``[..., size, size]`` matrices."""
    return torch.complex(real, imag).unflatten(-1, (size, size))


def _stack(entries: list, like: torch.Tensor) -> torch.Tensor:
    """Stack python floats and tensors (all broadcastable to ``like``) on a new last axis."""
    return torch.stack([e if isinstance(e, torch.Tensor) else torch.full_like(like, e) for e in entries], -1)


def _phase(a: torch.Tensor) -> torch.Tensor:
    lam = a[..., 0]
    return _complex(_stack([1.0, 0.0, 0.0, torch.cos(lam)], lam), _stack([0.0, 0.0, 0.0, torch.sin(lam)], lam), 2)


def _u(a: torch.Tensor) -> torch.Tensor:
    theta, phi, lam = a[..., 0], a[..., 1], a[..., 2]
    c, s = torch.cos(theta / 2), torch.sin(theta / 2)
    real = _stack([c, -torch.cos(lam) * s, torch.cos(phi) * s, torch.cos(phi + lam) * c], c)
    imag = _stack([0.0, -torch.sin(lam) * s, torch.sin(phi) * s, torch.sin(phi + lam) * c], c)
    return _complex(real, imag, 2)


def _controlled(target_builder: MatrixBuilder) -> MatrixBuilder:
    """``|0><0| (x) I + |1><1| (x) U`` with the control as the most significant bit."""

    def build(a: torch.Tensor) -> torch.Tensor:
        target = target_builder(a)
        out = torch.zeros(*target.shape[:-2], 4, 4, dtype=target.dtype, device=target.device)
        out[..., 0, 0] = 1
        out[..., 1, 1] = 1
        out[..., 2:, 2:] = target
        return out

    return build


def _complex_dtype(real: torch.dtype) -> torch.dtype:
    return torch.complex128 if real == torch.float64 else torch.complex64


def pauli_rotations(angles: torch.Tensor, generators: torch.Tensor) -> torch.Tensor:
    """``exp(-i theta/2 G) = cos(theta/2) I - i sin(theta/2) G`` for angles ``[..., k]`` and Paulis ``[k, d, d]``.

    Built from real and imaginary parts (``Re = cos I + sin Im G``, ``Im = -sin Re G``) to keep
    the autograd graph small: this runs once per group of rotations on every execution.
    """
    half = (angles / 2)[..., None, None]
    cos, sin = torch.cos(half), torch.sin(half)
    generators = generators.to(device=angles.device)
    eye = torch.eye(generators.shape[-1], dtype=angles.dtype, device=angles.device)
    real = cos * eye + sin * generators.imag.to(angles.dtype)
    imag = sin * (-generators.real).to(angles.dtype)
    return torch.complex(real, imag)


def _rotation(generator: torch.Tensor) -> MatrixBuilder:
    def build(a: torch.Tensor) -> torch.Tensor:
        return pauli_rotations(a[..., 0], generator)

    return build


def _constant(matrix: list[list[complex]]) -> MatrixBuilder:
    fixed = torch.tensor(matrix, dtype=torch.complex128)

    def build(a: torch.Tensor) -> torch.Tensor:
        return fixed.to(dtype=_complex_dtype(a.dtype), device=a.device).expand(*a.shape[:-1], *fixed.shape)

    return build


_X = [[0, 1], [1, 0]]
_Y = [[0, -1j], [1j, 0]]
_Z = [[1, 0], [0, -1]]
_R2 = 1 / math.sqrt(2)
_T = complex(math.cos(math.pi / 4), math.sin(math.pi / 4))
_PAULIS = {name: torch.tensor(p, dtype=torch.complex128) for name, p in (("x", _X), ("y", _Y), ("z", _Z))}
_PAULIS.update({name * 2: torch.kron(p, p) for name, p in list(_PAULIS.items())})


def _controlled_constant(target: list[list[complex]]) -> list[list[complex]]:
    return [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, *target[0]], [0, 0, *target[1]]]


def _permutation(targets: dict[int, int], size: int) -> list[list[complex]]:
    """The permutation matrix sending basis state ``j`` to ``targets.get(j, j)``."""
    matrix = [[0j] * size for _ in range(size)]
    for j in range(size):
        matrix[targets.get(j, j)][j] = 1
    return matrix


def _ccx() -> list[list[complex]]:
    return _permutation({6: 7, 7: 6}, 8)


def _cswap() -> list[list[complex]]:
    return _permutation({5: 6, 6: 5}, 8)


def _definitions() -> list[GateDefinition]:
    d = GateDefinition
    return [
        d("h", 1, 0, _constant([[_R2, _R2], [_R2, -_R2]])),
        d("x", 1, 0, _constant(_X)),
        d("y", 1, 0, _constant(_Y)),
        d("z", 1, 0, _constant(_Z), diagonal=True),
        d("s", 1, 0, _constant([[1, 0], [0, 1j]]), diagonal=True),
        d("sdg", 1, 0, _constant([[1, 0], [0, -1j]]), diagonal=True),
        d("t", 1, 0, _constant([[1, 0], [0, _T]]), diagonal=True),
        d("tdg", 1, 0, _constant([[1, 0], [0, _T.conjugate()]]), diagonal=True),
        d("sx", 1, 0, _constant([[(1 + 1j) / 2, (1 - 1j) / 2], [(1 - 1j) / 2, (1 + 1j) / 2]])),
        d("sxdg", 1, 0, _constant([[(1 - 1j) / 2, (1 + 1j) / 2], [(1 + 1j) / 2, (1 - 1j) / 2]])),
        d("rx", 1, 1, _rotation(_PAULIS["x"]), generator=_PAULIS["x"]),
        d("ry", 1, 1, _rotation(_PAULIS["y"]), generator=_PAULIS["y"]),
        d("rz", 1, 1, _rotation(_PAULIS["z"]), diagonal=True, generator=_PAULIS["z"]),
        d("p", 1, 1, _phase, diagonal=True),
        d("u", 1, 3, _u),
        d("cx", 2, 0, _constant(_controlled_constant(_X))),
        d("cy", 2, 0, _constant(_controlled_constant(_Y))),
        d("cz", 2, 0, _constant(_controlled_constant(_Z)), diagonal=True),
        d("swap", 2, 0, _constant([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]])),
        d("iswap", 2, 0, _constant([[1, 0, 0, 0], [0, 0, 1j, 0], [0, 1j, 0, 0], [0, 0, 0, 1]])),
        d("ch", 2, 0, _constant(_controlled_constant([[_R2, _R2], [_R2, -_R2]]))),
        d("cp", 2, 1, _controlled(_phase), diagonal=True),
        d("crx", 2, 1, _controlled(_rotation(_PAULIS["x"]))),
        d("cry", 2, 1, _controlled(_rotation(_PAULIS["y"]))),
        d("crz", 2, 1, _controlled(_rotation(_PAULIS["z"])), diagonal=True),
        d("rxx", 2, 1, _rotation(_PAULIS["xx"]), generator=_PAULIS["xx"]),
        d("ryy", 2, 1, _rotation(_PAULIS["yy"]), generator=_PAULIS["yy"]),
        d("rzz", 2, 1, _rotation(_PAULIS["zz"]), diagonal=True, generator=_PAULIS["zz"]),
        d("ccx", 3, 0, _constant(_ccx())),
        d("cswap", 3, 0, _constant(_cswap())),
    ]


GATES: dict[str, GateDefinition] = {g.name: g for g in _definitions()}


def gate_definition(name: str) -> GateDefinition:
    """The definition of gate ``name``; an ``InputError`` naming it if there is none."""
    try:
        return GATES[name]
    except KeyError:
        raise InputError(f"unknown gate {name!r}; known gates: {' '.join(GATES)}") from None


def gate_matrix(name: str, *angles: float, dtype: torch.dtype = torch.complex128) -> torch.Tensor:
    """The matrix of one gate with concrete angles, for inspection and tests."""
    gate = gate_definition(name)
    if len(angles) != gate.n_params:
        raise InputError(f"gate {name!r} takes {gate.n_params} angle(s), got {len(angles)}")
    real = torch.float64 if dtype == torch.complex128 else torch.float32
    return gate.build(torch.tensor(angles, dtype=real).reshape(gate.n_params)).to(dtype)
