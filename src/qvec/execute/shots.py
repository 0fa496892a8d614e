"""Estimates from a finite number of shots, drawn from any backend that runs qubit batches.

Expectation values are measured as hardware measures them: the Pauli strings are grouped into
qubit-wise commuting bases, each row is sampled ``shots`` times in each basis, and a string's
estimate is the mean of its parity over those samples (variance ``(1 - <P>**2) / shots``).

All bases go to the backend as ONE batch of G x B rows (one round of jobs on a remote backend):
the circuit ends with a ``u`` gate on every qubit that some basis rotates, whose per-row angles
rotate row block g into basis g (X: H = u(pi/2, 0, pi); Y: H S-dagger = u(pi/2, 0, pi/2); else the
identity u(0, 0, 0)).
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import torch

from qvec.backends.base import RunsQubitBatches
from qvec.circuit import Circuit
from qvec.circuit.bases import MeasurementGroup, measurement_groups, parity_signs, qubit_mask
from qvec.circuit.observables import Observable, expand_observables
from qvec.circuit.operation import Operation
from qvec.circuit.parameters import Angle, ParamValue, bind_parameters
from qvec.sim.memory import check_fits
from qvec.sim.simulate import real_dtype

__all__ = ["sampled_expval", "sampled_probs"]

Params = Mapping[str, ParamValue] | None

# (theta, lambda) of the u gate that turns a letter's eigenbasis into the computational basis.
_BASIS_ROTATION = {"X": (math.pi / 2, math.pi), "Y": (math.pi / 2, math.pi / 2), "Z": (0.0, 0.0)}


def sampled_expval(backend: RunsQubitBatches, circuit: Circuit, observables: Sequence[Observable], params: Params, *,
                   shots: int, seed: int | None, dtype: torch.dtype, device: Any) -> torch.Tensor:
    """Expectation values ``[B, len(observables)]`` estimated from ``shots`` samples per row and basis."""
    terms = expand_observables(list(observables), circuit.n_qubits)
    groups = measurement_groups(terms.strings)
    template, values, rows = _all_bases_in_one_batch(circuit, params, groups)
    outcomes = backend.sample(template, shots, values, seed=seed, dtype=dtype, device=device)
    estimates = torch.empty(rows, len(terms.strings), dtype=torch.float64, device=outcomes.device)
    for g, (_, members) in enumerate(groups):
        block = outcomes[g * rows:(g + 1) * rows]
        for index in members:
            estimates[:, index] = parity_signs(block, qubit_mask(terms.strings[index])).to(torch.float64).mean(dim=1)
    return terms.combine(estimates).to(dtype=real_dtype(dtype), device=device)


def _all_bases_in_one_batch(circuit: Circuit, params: Params,
                            groups: Sequence[MeasurementGroup]) -> tuple[Circuit, dict[str, torch.Tensor], int]:
    """The template with its basis-rotating ``u`` gates, its values for G x B rows (block g in basis g), and B."""
    batch = bind_parameters(circuit.parameters, params, circuit.tensor_angles())
    rows, copies = batch.batch_size, len(groups)
    template = Circuit(circuit.n_qubits, [Operation(op.gate, op.wires, tuple(_tiled(a, copies) for a in op.angles))
                                          for op in circuit])
    values = {name: _tiled(value, copies) for name, value in batch.values.items()}
    rotated = sorted({q for basis, _ in groups for q, letter in basis.items() if letter != "Z"})
    for qubit in rotated:
        theta, lam = (_fresh_name(f"basis_{part}_{qubit}", values) for part in ("theta", "lambda"))
        angles = torch.tensor([_BASIS_ROTATION[basis.get(qubit, "Z")] for basis, _ in groups], dtype=torch.float64)
        values[theta], values[lam] = angles.repeat_interleave(rows, dim=0).unbind(dim=1)
        template.u(qubit, theta, 0.0, lam)
    return template, values, rows


def _tiled(angle: Angle, copies: int) -> Angle:
    """A per-row (1-D) tensor repeated for ``copies`` blocks of rows, detached (shot estimates carry no
    gradient); any other angle unchanged."""
    if isinstance(angle, torch.Tensor) and angle.dim() == 1:
        return angle.detach().repeat(copies)
    return angle.detach() if isinstance(angle, torch.Tensor) else angle


def _fresh_name(name: str, taken: Mapping[str, Any]) -> str:
    """``name``, prefixed with underscores until no parameter of the circuit has it."""
    while name in taken:
        name = f"_{name}"
    return name


def sampled_probs(backend: RunsQubitBatches, circuit: Circuit, params: Params, *, shots: int, seed: int | None,
                  dtype: torch.dtype, device: Any) -> torch.Tensor:
    """Basis-state frequencies ``[B, 2**n]`` over ``shots`` samples per row."""
    outcomes = backend.sample(circuit, shots, params, seed=seed, dtype=dtype, device=device)
    rows, real = outcomes.shape[0], real_dtype(dtype)
    check_fits(rows * 2**circuit.n_qubits * real.itemsize, f"{circuit.n_qubits} qubits x B = {rows} (frequencies)",
               outcomes.device, "lower the qubits or the batch, or ask for samples instead")
    frequencies = torch.zeros(rows, 2**circuit.n_qubits, dtype=real, device=outcomes.device)
    frequencies.scatter_add_(1, outcomes, torch.ones_like(outcomes, dtype=frequencies.dtype))
    return (frequencies / shots).to(device=device)
