"""Passive linear optics: an N-mode unitary decomposed into beamsplitters and rotations.

The decomposition is Reck's triangular mesh: Givens rotations of the form BS(theta, phi)^dagger
clear the unitary below its diagonal, column by column, leaving a diagonal of phases. Read
backwards, that is a circuit: rotations first, then the beamsplitters in reverse order.
"""

from __future__ import annotations

import cmath
import math
from dataclasses import dataclass

import numpy as np
import torch

from qvec.errors import InputError

__all__ = ["MeshElement", "decompose_unitary", "check_unitary", "UNITARY_TOLERANCE"]

UNITARY_TOLERANCE = 1e-6
_ZERO = 1e-14


@dataclass(frozen=True)
class MeshElement:
    """One gate of the mesh: ``bs(i, i + 1, theta, phi)`` or, when ``theta`` is None, ``r(i, phi)``."""

    mode: int
    theta: float | None
    phi: float


def check_unitary(unitary: object, size: int) -> np.ndarray:
    """Return ``unitary`` as a complex128 array after checking its shape and unitarity."""
    if isinstance(unitary, torch.Tensor):
        if unitary.requires_grad:
            raise InputError("interferometer unitary must be a constant; use bs and r gates for a trainable mesh")
        unitary = unitary.detach().cpu().numpy()
    matrix = np.asarray(unitary, dtype=np.complex128)
    if matrix.shape != (size, size):
        raise InputError(f"interferometer on {size} modes needs a {size}x{size} unitary, got shape {matrix.shape}")
    if not np.all(np.isfinite(matrix)):
        raise InputError("interferometer unitary has non-finite entries")
    error = np.abs(matrix @ matrix.conj().T - np.eye(size)).max()
    if error > UNITARY_TOLERANCE * size:
        raise InputError(f"interferometer matrix is not unitary (max |U U^dagger - I| = {error:.3g})")
    return matrix


def decompose_unitary(unitary: np.ndarray) -> list[MeshElement]:
    """Gates, in the order to apply them, whose one-photon transfer matrix is ``unitary``."""
    work = unitary.copy()
    size = work.shape[0]
    clearing: list[MeshElement] = []
    for column in range(size - 1):
        for row in range(size - 1, column, -1):
            above, below = work[row - 1, column], work[row, column]
            if abs(below) < _ZERO:
                continue
            theta = math.atan2(abs(below), abs(above))
            phi = cmath.phase(below) - (cmath.phase(above) if abs(above) > _ZERO else 0.0)
            cos, sin = math.cos(theta), math.sin(theta)
            inverse = np.array([[cos, cmath.exp(-1j * phi) * sin], [-cmath.exp(1j * phi) * sin, cos]])
            work[[row - 1, row], :] = inverse @ work[[row - 1, row], :]
            clearing.append(MeshElement(row - 1, theta, phi))
    phases = [MeshElement(mode, None, cmath.phase(work[mode, mode])) for mode in range(size)]
    return phases + clearing[::-1]
