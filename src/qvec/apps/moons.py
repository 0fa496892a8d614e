"""A small variational classifier on the bundled two-moons data: the `qvec demo` model.

Two qubits with data re-uploading: each layer encodes the scaled point with RY gates,
applies trainable rotations and an entangling CX; a linear head reads <Z0>, <Z1>.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

import torch
from torch import nn

import qvec

__all__ = ["load_two_moons", "MoonsClassifier", "TrainingResult", "train_classifier"]


def load_two_moons() -> tuple[torch.Tensor, torch.Tensor]:
    """The bundled data set: points ``[200, 2]`` (float32) and labels ``[200]`` (0 or 1)."""
    text = resources.files("qvec.apps").joinpath("data/two_moons.csv").read_text()
    rows = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    points = torch.tensor([[float(r["x"]), float(r["y"])] for r in rows])
    labels = torch.tensor([int(r["label"]) for r in rows])
    return points, labels


def _reuploading_circuit(layers: int) -> qvec.Circuit:
    circuit = qvec.Circuit(2)
    for layer in range(layers):
        circuit.ry(0, f"in{layer}_0").ry(1, f"in{layer}_1")
        circuit.rz(0, f"w{layer}_0").rz(1, f"w{layer}_1").ry(0, f"w{layer}_2").ry(1, f"w{layer}_3")
        circuit.cx(0, 1)
    return circuit


class MoonsClassifier(nn.Module):
    """Points ``[B, 2]`` -> logits ``[B]``, computed on a qvec backend (the local simulator by default)."""

    def __init__(self, layers: int = 3, backend: object | None = None) -> None:
        super().__init__()
        self.layers = layers
        self.backend = backend
        self.circuit = _reuploading_circuit(layers)
        self.input_scale = nn.Parameter(torch.ones(layers, 2))
        self.weights = nn.Parameter(0.1 * torch.randn(layers, 4))
        self.head = nn.Linear(2, 1)

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        params = {}
        for layer in range(self.layers):
            for qubit in range(2):
                params[f"in{layer}_{qubit}"] = self.input_scale[layer, qubit] * points[:, qubit]
            params.update({f"w{layer}_{k}": self.weights[layer, k] for k in range(4)})
        expectations = self.circuit.expval(["Z0", "Z1"], params, backend=self.backend)
        return self.head(expectations).squeeze(-1)


@dataclass
class TrainingResult:
    epochs_run: int
    final_loss: float
    train_accuracy: float
    test_accuracy: float
    interrupted: bool


def _accuracy(model: MoonsClassifier, points: torch.Tensor, labels: torch.Tensor) -> float:
    with torch.no_grad():
        return float(((model(points) > 0).long() == labels).float().mean())


def train_classifier(epochs: int = 60, seed: int = 0, progress: object | None = None) -> TrainingResult:
    """Train on 160 points, test on 40; Ctrl-C stops early and still reports what was reached."""
    torch.manual_seed(seed)
    points, labels = load_two_moons()
    order = torch.randperm(len(points))
    train, test = order[:160], order[160:]
    model = MoonsClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.08)
    loss_fn = nn.BCEWithLogitsLoss()
    loss, epoch, interrupted = torch.tensor(float("nan")), 0, False
    try:
        for epoch in range(1, epochs + 1):
            optimizer.zero_grad()
            loss = loss_fn(model(points[train]), labels[train].float())
            loss.backward()
            optimizer.step()
            if progress is not None:
                progress(epoch, loss.item())
    except KeyboardInterrupt:
        interrupted = True
    return TrainingResult(epoch, loss.item(), _accuracy(model, points[train], labels[train]),
                          _accuracy(model, points[test], labels[test]), interrupted)
