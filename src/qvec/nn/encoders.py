"""Data encoders: each builds (or extends) a circuit and returns it with the input names it created.

A circuit's angles are parameter names, so an encoder whose angles are functions of the features
(amplitude, IQP) comes with a differentiable torch function that computes them from ``x``, in the
order of the names: ``layer(amplitude_angles(x))``, ``layer(iqp_features(x))``.
"""

from __future__ import annotations

import torch

from qvec.circuit import Circuit
from qvec.errors import InputError

from .templates import check_rotation, entangling_pairs, fresh_names, positive_int, target_circuit

__all__ = ["amplitude_angles", "amplitude_encoding", "angle_encoding", "data_reuploading", "iqp_encoding",
           "iqp_features"]


def angle_encoding(n_qubits: int, *, rotation: str = "ry", prefix: str = "x",
                   circuit: Circuit | None = None) -> tuple[Circuit, list[str]]:
    """Feature q as the angle of ``rotation`` on qubit q: the product state of single-qubit rotations.

    Inputs ``{prefix}{q}``.
    """
    circuit, gate = target_circuit(n_qubits, circuit), check_rotation(rotation)
    names = fresh_names(circuit, [f"{prefix}{q}" for q in range(n_qubits)])
    for q, name in enumerate(names):
        circuit.append(gate, (q,), (name,))
    return circuit, names


# -- amplitude encoding (Mottonen et al. 2004) -------------------------------------------------
def _gray(i: int) -> int:
    return i ^ (i >> 1)


def _uniformly_controlled(circuit: Circuit, gate: str, target: int, controls: list[int], names: list[str]) -> None:
    """``gate`` (ry or rz) on ``target`` by an angle chosen by the ``controls`` (bit j of the pattern is
    ``controls[j]``), as 2**k rotations alternating with CNOTs in Gray-code order; ``names`` are the
    Gray-basis angles (CNOT flips the sign of both rotations, so the pattern sees a signed sum)."""
    for i, name in enumerate(names):
        circuit.append(gate, (target,), (name,))
        if controls:
            changed = _gray(i) ^ _gray((i + 1) % len(names))
            circuit.cx(controls[changed.bit_length() - 1], target)


def _tree(n_qubits: int, gate: str, prefix: str) -> list[tuple[str, int, list[int], list[str]]]:
    """One uniformly controlled ``gate`` per level: the most significant qubit first, conditioned on those above it."""
    return [(gate, n_qubits - 1 - level, list(range(n_qubits - level, n_qubits)),
             [f"{prefix}{level}_{i}" for i in range(2**level)]) for level in range(n_qubits)]


def amplitude_encoding(n_qubits: int, *, complex_amplitudes: bool = False, prefix: str = "a",
                       circuit: Circuit | None = None) -> tuple[Circuit, list[str]]:
    """State preparation of ``x / |x|`` for ``x`` of length ``2**n_qubits`` (index bit q is qubit q) by uniformly
    controlled rotations (Mottonen et al.): 2**n - 1 RY and 2**n - 2 CNOTs for real ``x`` (signs included);
    with ``complex_amplitudes``, as many RZ and CNOTs again set the phases (up to a global phase).

    Inputs ``{prefix}{level}_{i}`` (then ``{prefix}p{level}_{i}`` for the phases); feed them ``amplitude_angles(x)``.
    Starts from ``|0...0>``, so it goes first.
    """
    circuit = target_circuit(n_qubits, circuit)
    stages = _tree(n_qubits, "ry", prefix) + (_tree(n_qubits, "rz", f"{prefix}p") if complex_amplitudes else [])
    names = fresh_names(circuit, [name for *_, level_names in stages for name in level_names])
    for gate, target, controls, level_names in stages:
        _uniformly_controlled(circuit, gate, target, controls, level_names)
    return circuit, names


def _walsh_gray(level: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``M[c, i] = (-1)^popcount(c & gray(i))``: the angle a pattern c sees is ``sum_i M[c, i] theta_i``."""
    size = 2**level
    c = torch.arange(size, device=device)[:, None]
    g = torch.tensor([_gray(i) for i in range(size)], device=device)[None, :]
    bits = c & g
    parity = torch.zeros_like(bits)
    for bit in range(level):
        parity ^= (bits >> bit) & 1
    return (1 - 2 * parity).to(dtype)


def _gray_basis(alpha: torch.Tensor, level: int) -> torch.Tensor:
    """The Gray-basis angles whose signed sums are the pattern angles ``alpha``: ``M^T alpha / 2**level``."""
    return alpha @ _walsh_gray(level, alpha.dtype, alpha.device) / 2**level


def _magnitude_angles(x: torch.Tensor, n: int) -> list[torch.Tensor]:
    """RY angles per level: the split of each block's norm between its halves (the last level keeps real signs)."""
    angles = []
    for level in range(n):
        blocks = x.reshape(*x.shape[:-1], 2**level, 2, 2 ** (n - level - 1))
        if level == n - 1:
            alpha = 2 * torch.atan2(blocks[..., 1, 0], blocks[..., 0, 0])
        else:
            norms = torch.linalg.vector_norm(blocks, dim=-1)
            alpha = 2 * torch.atan2(norms[..., 1], norms[..., 0])
        angles.append(_gray_basis(alpha, level))
    return angles


def _phase_angles(phases: torch.Tensor, n: int) -> list[torch.Tensor]:
    """RZ angles per level: from the last qubit up, each pair's phase difference; its mean goes up a level."""
    angles = []
    for level in range(n - 1, -1, -1):
        pairs = phases.reshape(*phases.shape[:-1], 2**level, 2)
        angles.append(_gray_basis(pairs[..., 1] - pairs[..., 0], level))
        phases = pairs.mean(-1)
    return angles[::-1]


def amplitude_angles(x: torch.Tensor) -> torch.Tensor:
    """The inputs of ``amplitude_encoding`` for features ``x [..., 2**n]``: ``[..., 2**n - 1]`` for real ``x``,
    ``[..., 2 * (2**n - 1)]`` for complex ``x`` (with ``complex_amplitudes=True``); differentiable (except
    where a block of features is all zero)."""
    x = torch.as_tensor(x)
    if not (x.is_floating_point() or x.is_complex()):
        raise InputError(f"amplitude_angles takes floating-point or complex features, got dtype {x.dtype}")
    size = x.shape[-1] if x.dim() else 0
    if size < 2 or size & (size - 1):
        raise InputError(f"amplitude encoding needs 2**n features (n >= 1) on the last axis, got shape {tuple(x.shape)}")
    if bool((x.detach().abs().sum(-1) == 0).any()):
        raise InputError("amplitude encoding cannot prepare x / |x| for an all-zero x")
    n = size.bit_length() - 1
    if not x.is_complex():
        return torch.cat(_magnitude_angles(x, n), dim=-1)
    return torch.cat([*_magnitude_angles(x.abs(), n), *_phase_angles(x.angle(), n)], dim=-1)


# -- IQP and data re-uploading ----------------------------------------------------------------
def _pairs(n_qubits: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(n_qubits) for j in range(i + 1, n_qubits)]


def iqp_encoding(n_qubits: int, *, reps: int = 1, prefix: str = "x",
                 circuit: Circuit | None = None) -> tuple[Circuit, list[str]]:
    """Havlicek et al.'s IQP feature map, ``reps`` times: H on every qubit, RZ(x_i), then RZZ(x_i x_j) for all i < j.

    Inputs ``{prefix}{i}`` then ``{prefix}{i}_{j}`` (the products); feed them ``iqp_features(x)``.
    """
    circuit = target_circuit(n_qubits, circuit)
    positive_int(reps, "reps")
    singles = [f"{prefix}{i}" for i in range(n_qubits)]
    products = [f"{prefix}{i}_{j}" for i, j in _pairs(n_qubits)]
    names = fresh_names(circuit, singles + products)
    for _ in range(reps):
        for q in range(n_qubits):
            circuit.h(q).rz(q, singles[q])
        for (i, j), name in zip(_pairs(n_qubits), products):
            circuit.rzz(i, j, name)
    return circuit, names


def iqp_features(x: torch.Tensor) -> torch.Tensor:
    """The inputs of ``iqp_encoding`` for features ``x [..., n]``: ``x_i``, then ``x_i x_j`` for i < j."""
    x = torch.as_tensor(x)
    if x.dim() == 0 or x.shape[-1] < 1:
        raise InputError(f"iqp_features takes features on the last axis, got shape {tuple(x.shape)}")
    i, j = torch.triu_indices(x.shape[-1], x.shape[-1], offset=1, device=x.device)
    return torch.cat([x, x[..., i] * x[..., j]], dim=-1)


def data_reuploading(n_qubits: int, layers: int, *, input_prefix: str = "x", weight_prefix: str = "w",
                     circuit: Circuit | None = None) -> tuple[Circuit, list[str], list[str]]:
    """Perez-Salinas et al.'s data re-uploading: ``layers`` x (RY(x_q) on every qubit, a trained
    RZ RY RZ on every qubit, a CNOT ring). The same inputs are uploaded in every layer.

    Returns the circuit, the inputs ``{input_prefix}{q}`` and the weights ``{weight_prefix}{layer}_{q}_{k}``.
    """
    circuit = target_circuit(n_qubits, circuit)
    positive_int(layers, "layers")
    inputs = [f"{input_prefix}{q}" for q in range(n_qubits)]
    weights = [f"{weight_prefix}{layer}_{q}_{k}" for layer in range(layers) for q in range(n_qubits) for k in range(3)]
    fresh_names(circuit, inputs + weights)
    trained = iter(weights)
    for _ in range(layers):
        for q in range(n_qubits):
            circuit.ry(q, inputs[q]).rz(q, next(trained)).ry(q, next(trained)).rz(q, next(trained))
        for control, target in entangling_pairs(n_qubits, "ring"):
            circuit.cx(control, target)
    return circuit, inputs, weights
