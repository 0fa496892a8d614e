"""The two workloads every ``qvec bench`` engine figure is taken on, built as the layers a model trains.

- ``qubit``: the standard circuit (``standard_qubit_circuit``) in a ``QuantumLayer``, outputs <Z_q>;
- ``photonic``: the CV-GAN generator (``gan_generator_circuit``) in a ``PhotonicLayer``, outputs <x> and
  <n> of every mode.

Weights are seeded, so a layer built in another process (the process-pool strategy, an isolated peer
run) holds the same numbers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from qvec.errors import InputError

from .circuits import gan_generator_circuit, standard_qubit_circuit

__all__ = ["DTYPES", "Workload", "gan_workload", "qubit_workload"]

# A state precision and the real precision of its angles and outputs.
DTYPES = {"complex64": (torch.complex64, torch.float32), "complex128": (torch.complex128, torch.float64)}
SEED = 0


@dataclass(frozen=True)
class Workload:
    """A circuit family at one size: ``qubit`` (``size`` qubits) or ``photonic`` (``size`` modes at ``cutoff``)."""

    kind: str
    size: int
    layers: int
    cutoff: int | None = None
    dtype: str = "complex64"

    def __post_init__(self) -> None:
        if self.kind not in ("qubit", "photonic"):
            raise InputError(f"workload kind must be 'qubit' or 'photonic', got {self.kind!r}")
        if self.dtype not in DTYPES:
            raise InputError(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")

    @property
    def label(self) -> str:
        if self.kind == "qubit":
            return f"standard qubit circuit, n = {self.size}, L = {self.layers}"
        return f"GAN generator, {self.size} modes, cutoff {self.cutoff}, {self.layers} CV layers"

    @property
    def n_inputs(self) -> int:
        return self.size

    def layer(self) -> nn.Module:
        """The seeded layer: ``QuantumLayer`` or ``PhotonicLayer``, at this workload's precision."""
        from qvec.nn import MeanPhoton, PhotonicLayer, QuadratureMean, QuantumLayer

        complex_dtype = DTYPES[self.dtype][0]
        if self.kind == "qubit":
            circuit = standard_qubit_circuit(self.size, self.layers)
            weights = [p for p in circuit.parameters if p.startswith("w")]
            return QuantumLayer(circuit, [f"x{q}" for q in range(self.size)], weights,
                                [f"Z{q}" for q in range(self.size)], seed=SEED, dtype=complex_dtype)
        circuit, inputs, weights = gan_generator_circuit(self.size, self.layers)
        readouts = [QuadratureMean(m) for m in range(self.size)] + [MeanPhoton(m) for m in range(self.size)]
        return PhotonicLayer(circuit, inputs, weights, readouts, cutoff=self.cutoff, seed=SEED, dtype=complex_dtype)

    def inputs(self, batch: int, seed: int = SEED) -> torch.Tensor:
        """``batch`` rows of inputs: angles in [0, pi) for qubits, latent displacements N(0, 0.3^2) for photons."""
        generator = torch.Generator().manual_seed(seed)
        real = DTYPES[self.dtype][1]
        if self.kind == "qubit":
            return torch.rand(batch, self.size, generator=generator, dtype=torch.float64).to(real) * torch.pi
        return (0.3 * torch.randn(batch, self.size, generator=generator, dtype=torch.float64)).to(real)

    def as_dict(self) -> dict:
        return {**asdict(self), "label": self.label}


def qubit_workload(n_qubits: int = 8, layers: int = 4, dtype: str = "complex64") -> Workload:
    """The standard qubit circuit (8 qubits, 4 layers by default: the size of the project's engine targets)."""
    return Workload("qubit", n_qubits, layers, dtype=dtype)


def gan_workload(n_modes: int = 2, cutoff: int = 8, layers: int = 2, dtype: str = "complex64") -> Workload:
    """The CV-GAN generator (2 modes, cutoff 8, 2 layers by default: the size of the field report's GAN)."""
    return Workload("photonic", n_modes, layers, cutoff, dtype)
