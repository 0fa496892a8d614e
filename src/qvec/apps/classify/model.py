"""The hybrid classifier and its classical twin: features -> Linear -> bottleneck of ``qubits`` -> Linear head.

The quantum bottleneck is a ``QuantumLayer`` (an encoder, then a trained template; ``<Z>`` of every qubit);
the classical one is ``Linear + tanh`` of the same width, trained the same way, so that the accuracy of the
classical parts is never mistaken for the quantum layer's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import nn

from qvec.circuit import Circuit
from qvec.errors import InputError
from qvec.nn import (
    QuantumLayer, amplitude_angles, amplitude_encoding, angle_encoding, basic_entangler, data_reuploading,
    hardware_efficient, iqp_encoding, iqp_features, strongly_entangling,
)

__all__ = ["ENCODERS", "TEMPLATES", "ModelConfig", "HybridClassifier", "QuantumBottleneck", "ClassicalBottleneck",
           "build_models"]

ENCODERS = ("angle", "iqp", "amplitude", "reuploading")
TEMPLATES = {"strongly-entangling": strongly_entangling, "basic-entangler": basic_entangler,
             "hardware-efficient": hardware_efficient}
# Measured on digits: weights drawn uniformly on [0, 2 pi) scramble the encoded angles and train to ~15% in
# 15 epochs; near-identity weights (normal, std 0.1) start from the encoder's product state and train well.
INIT_STD = 0.1
# Measured on digits with strongly entangling layers (8 qubits, 2 layers, 60 epochs; experiments before this app was written): RX encoding settles at
# 92-94% test accuracy, RY at 89-91%.
ANGLE_ROTATION = "rx"


@dataclass(frozen=True)
class ModelConfig:
    """What shapes the models: input features, bottleneck width (= qubits), circuit and gradient options."""

    features: int
    classes: int
    qubits: int = 8
    layers: int = 2
    encoder: str = "angle"
    template: str | None = "strongly-entangling"
    diff_method: str = "best"
    shots: int | None = None

    def __post_init__(self) -> None:
        if self.encoder not in ENCODERS:
            raise InputError(f"unknown encoder {self.encoder!r}; accepted: {', '.join(ENCODERS)}")
        if self.template is not None and self.template not in TEMPLATES:
            raise InputError(f"unknown template {self.template!r}; accepted: {', '.join(TEMPLATES)}")
        if self.encoder == "reuploading" and self.template is not None:
            raise InputError("encoder 'reuploading' trains its own rotations in each of its --layers: "
                             "leave --template out")
        if self.encoder != "reuploading" and self.template is None:
            raise InputError(f"encoder {self.encoder!r} needs a --template ({', '.join(TEMPLATES)})")


def quantum_circuit(config: ModelConfig) -> tuple[Circuit, list[str], list[str]]:
    """The bottleneck's circuit with its input names (fed from the encoder's angles) and weight names."""
    n, layers = config.qubits, config.layers
    if config.encoder == "reuploading":
        return data_reuploading(n, layers)
    if config.encoder == "angle":
        circuit, inputs = angle_encoding(n, rotation=ANGLE_ROTATION)
    else:
        circuit, inputs = {"iqp": iqp_encoding, "amplitude": amplitude_encoding}[config.encoder](n)
    circuit, weights = TEMPLATES[config.template](n, layers, circuit=circuit)
    return circuit, inputs, weights


def _encoder_angles(encoder: str, qubits: int) -> tuple[int, Callable[[torch.Tensor], torch.Tensor]]:
    """How many values the Linear before the circuit produces, and the map from them to the circuit's inputs."""
    if encoder == "iqp":
        return qubits, iqp_features
    if encoder == "amplitude":
        return 2 ** qubits, amplitude_angles
    return qubits, lambda x: x


class QuantumBottleneck(nn.Module):
    """``[B, features] -> [B, qubits]``: a Linear to the encoder's angles, then the circuit's ``<Z_q>``."""

    def __init__(self, config: ModelConfig, backend: Any = None, seed: int | None = None) -> None:
        super().__init__()
        width, self.to_inputs = _encoder_angles(config.encoder, config.qubits)
        self.project = nn.Linear(config.features, width)
        circuit, inputs, weights = quantum_circuit(config)
        self.layer = QuantumLayer(circuit, inputs, weights, [f"Z{q}" for q in range(config.qubits)], backend=backend,
                                  diff_method=config.diff_method, shots=config.shots, init="normal",
                                  init_std=INIT_STD, seed=seed)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.layer(self.to_inputs(self.project(features))).to(features.dtype)


class ClassicalBottleneck(nn.Module):
    """``[B, features] -> [B, qubits]``: Linear then tanh, outputs in [-1, 1] as ``<Z>`` values are."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.project = nn.Linear(config.features, config.qubits)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.project(features))


class HybridClassifier(nn.Module):
    """A bottleneck, then a Linear head to one logit per class."""

    def __init__(self, bottleneck: nn.Module, width: int, classes: int) -> None:
        super().__init__()
        self.bottleneck = bottleneck
        self.head = nn.Linear(width, classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(self.bottleneck(features))


def build_models(config: ModelConfig, backend: Any = None, seed: int = 0) -> dict[str, HybridClassifier]:
    """``{"quantum": ..., "classical": ...}``, each initialised from ``seed`` as if it were the only model."""
    torch.manual_seed(seed)
    quantum = HybridClassifier(QuantumBottleneck(config, backend, seed), config.qubits, config.classes)
    torch.manual_seed(seed)
    classical = HybridClassifier(ClassicalBottleneck(config), config.qubits, config.classes)
    return {"quantum": quantum, "classical": classical}
