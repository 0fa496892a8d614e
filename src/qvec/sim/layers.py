"""Turn fused single-qubit runs into layer steps: kron blocks over qubit groups, or a product state.

All layers of one kind (shared or per-row) are built together, so the number of tensor
operations does not grow with the number of layers.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .apply import Block, Layer, kron_chain, qubit_groups
from .program import LayerSpec

__all__ = ["ProductState", "build_layers", "product_state"]


@dataclass
class ProductState:
    """A layer acting first, on |0...0>: the per-qubit vectors ``[w, 2]`` (shared) or ``[N, w, 2]``."""

    wires: tuple[int, ...]
    vectors: torch.Tensor


def _full_register(specs: list[LayerSpec], fused: torch.Tensor, n_qubits: int) -> torch.Tensor:
    """Each layer's 2x2 on every qubit, identity where it has none: ``[..., M, n, 2, 2]``, qubit n-1 first."""
    eye = torch.eye(2, dtype=fused.dtype, device=fused.device).expand(*fused.shape[:-3], 1, 2, 2)
    extended = torch.cat([fused, eye], dim=-3)
    identity, index, run = fused.shape[-3], [], 0
    for spec in specs:
        position = {w: run + i for i, w in enumerate(spec.wires)}
        index.extend(position.get(q, identity) for q in range(n_qubits - 1, -1, -1))
        run += len(spec.wires)
    flat = extended.index_select(-3, torch.tensor(index, device=fused.device))
    return flat.unflatten(-3, (len(specs), n_qubits))


def build_layers(specs: list[LayerSpec], fused: torch.Tensor, n_qubits: int) -> list[Layer]:
    """One ``Layer`` per spec from ``fused [..., R, 2, 2]`` (the specs' runs, in order)."""
    full = _full_register(specs, fused, n_qubits)
    group_krons = {
        (start, size): kron_chain(full[..., n_qubits - start - size: n_qubits - start, :, :])
        for start, size in qubit_groups(n_qubits)
    }
    layers, run = [], 0
    for m, spec in enumerate(specs):
        blocks = []
        for start, size in qubit_groups(n_qubits):
            inside = [i for i, w in enumerate(spec.wires) if start <= w < start + size]
            if len(inside) == 1:
                blocks.append(Block(spec.wires[inside[0]], 1, fused[..., run + inside[0], :, :]))
            elif inside:
                blocks.append(Block(start, size, group_krons[(start, size)][..., m, :, :]))
        layers.append(Layer(tuple(blocks)))
        run += len(spec.wires)
    return layers


def product_state(step: ProductState, n_rows: int, n_qubits: int) -> torch.Tensor:
    """The kron product of the per-qubit vectors (|0> where no gate acts): ``[n_rows, 2**n]``."""
    factors = step.vectors.unbind(-2)
    position = {w: i for i, w in enumerate(step.wires)}
    batch = step.vectors.shape[:-2]
    state = None
    for axis, qubit in enumerate(range(n_qubits - 1, -1, -1)):
        if qubit not in position:
            continue
        shape = [1] * n_qubits
        shape[axis] = 2
        placed = factors[position[qubit]].reshape(*batch, *shape)
        state = placed if state is None else state * placed
    state = state.expand(*batch, *([2] * n_qubits))
    missing = [a for a, q in enumerate(range(n_qubits - 1, -1, -1)) if q not in position]
    if missing:
        keep = torch.zeros([2] * n_qubits, dtype=state.dtype, device=state.device)
        keep[tuple(slice(0, 1) if a in missing else slice(None) for a in range(n_qubits))] = 1
        state = state * keep
    return state.reshape(*batch, 2**n_qubits).expand(n_rows, 2**n_qubits)
