"""The quantum generator: latent noise as displacements, Killoran's CV layers, a readout of the output modes.

The circuit has ``dim`` output modes (one per coordinate) and ``ancillas`` more, traced out. Latent
component i (uniform on [-1, 1]) displaces mode i along x; ``cv_neural_net`` layers follow. Every call
runs the whole batch of latent rows as one Fock simulation. Readouts:

- ``density``: each row's joint x-quadrature density of the output modes on a grid (Hermite functions),
  as cell probabilities. The generator's distribution is the mixture of the rows' densities, and the
  expected critic value under it is an exact, differentiable sum over the grid.
- ``sample``: homodyne outcomes drawn from those densities (one grid cell, then uniform in the cell);
  the generator trains through the score function (the log density at the sampled cells).
- ``mean``: each row's quadrature means ``<x_i>``, a deterministic map of the latent row (as in the
  Strawberry Fields QGANs); the quantum noise of the state plays no part.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from qvec.errors import InputError, QvecError
from qvec.nn.photonic import PhotonicLayer, QuadratureMean
from qvec.nn.templates import cv_neural_net
from qvec.photonic import Circuit, FockState

__all__ = ["Grid", "QuantumGenerator", "READOUTS"]

READOUTS = ("density", "sample", "mean")
# Truncation is measured (``lost_norm``, in every epoch's metrics) and penalised in training, not warned of
# once per simulation step.
NO_TRUNCATION_WARNING = 1.0
MIN_GRID_MASS = 1e-3  # below this share of a row's probability on the grid, its renormalized density means nothing


@dataclass(frozen=True)
class Grid:
    """``points`` equally spaced points on [low, high] on every output coordinate (a square grid in 2-D)."""

    low: float
    high: float
    points: int
    dim: int

    @property
    def axis(self) -> torch.Tensor:
        return torch.linspace(self.low, self.high, self.points, dtype=torch.float64)

    @property
    def spacing(self) -> float:
        return (self.high - self.low) / (self.points - 1)

    def cells(self) -> torch.Tensor:
        """The grid's points ``[points ** dim, dim]``, the first coordinate the slowest (as the density's axes)."""
        axes = torch.meshgrid(*[self.axis] * self.dim, indexing="ij")
        return torch.stack([a.reshape(-1) for a in axes], dim=1)


class QuantumGenerator(nn.Module):
    """Latent rows ``[B, latent_dim]`` -> a batched Fock state and its readouts (see the module docstring)."""

    def __init__(self, grid: Grid, *, layers: int, cutoff: int, readout: str = "density", ancillas: int = 0,
                 latent_dim: int | None = None, seed: int | None = None, init_std: float = 0.1,
                 dtype: torch.dtype = torch.complex64, backend: Any = None) -> None:
        super().__init__()
        n_modes = grid.dim + ancillas
        latent_dim = grid.dim if latent_dim is None else latent_dim
        if readout not in READOUTS:
            raise InputError(f"--readout {readout!r}: choose one of {', '.join(READOUTS)}")
        if not 0 <= latent_dim <= n_modes:
            raise InputError(f"--latent-dim {latent_dim}: needs 0 to {n_modes} (one displaced mode per latent value)")
        if readout == "mean" and latent_dim == 0:
            raise InputError("--readout mean needs --latent-dim >= 1: without noise its output is a single point")
        self.grid, self.readout, self.latent_dim, self.cutoff = grid, readout, latent_dim, cutoff
        circuit = Circuit(n_modes)
        inputs = [f"z{i}" for i in range(latent_dim)]
        for mode, name in enumerate(inputs):
            circuit.d(mode, name, 0.0)
        circuit, weights = cv_neural_net(n_modes, layers, circuit=circuit)
        self.layer = PhotonicLayer(circuit, inputs, weights, [QuadratureMean(m) for m in range(grid.dim)],
                                   cutoff=cutoff, seed=seed, init_std=init_std, dtype=dtype, backend=backend,
                                   truncation_tol=NO_TRUNCATION_WARNING)
        self.register_buffer("cell_points", grid.cells().to(torch.float32), persistent=False)

    @property
    def dim(self) -> int:
        return self.grid.dim

    def latent(self, rows: int, generator: torch.Generator) -> torch.Tensor | None:
        """``rows`` latent rows, uniform on [-1, 1]; None (one row, no noise) when ``latent_dim`` is 0."""
        if self.latent_dim == 0:
            return None
        return 2 * torch.rand(rows, self.latent_dim, generator=generator) - 1

    def run(self, latent: torch.Tensor | None) -> FockState:
        """The batched Fock state for the latent rows (one row without latent noise)."""
        return self.layer.state(latent)[1]

    def means(self, state: FockState) -> torch.Tensor:
        """``<x_i>`` of the output modes ``[B, dim]``."""
        return torch.stack([state.quad_expectation(mode) for mode in range(self.dim)], dim=1)

    def cell_probabilities(self, state: FockState) -> torch.Tensor:
        """Each row's x-quadrature density of the output modes on the grid, as probabilities ``[B, cells]``
        summing to 1 (the ancillas traced out; mass off the grid or lost to truncation renormalized away)."""
        grid = self.grid.axis.to(state.tensor.real.dtype)
        density = state.quadrature_density(list(range(self.dim)), grid).reshape(state.batch_size, -1)
        mass = density.sum(dim=1, keepdim=True)
        on_grid = float(mass.detach().min()) * self.grid.spacing**self.dim
        if not on_grid > MIN_GRID_MASS:  # also catches NaN
            raise QvecError(f"the generator's quadrature density left the grid [{self.grid.low:g}, {self.grid.high:g}] "
                            f"(a row keeps {on_grid:.3g} of its probability on it): lower --g-lr or raise --norm-weight")
        return density / mass

    def sample_cells(self, probabilities: torch.Tensor, count: int,
                     generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``count`` draws spread evenly over the rows of ``probabilities``: (row, cell) index pairs."""
        rows = probabilities.shape[0]
        per_row = math.ceil(count / rows)
        cells = torch.multinomial(probabilities.detach().double(), per_row, replacement=True, generator=generator)
        row_index = torch.arange(rows).repeat_interleave(per_row)
        return row_index[:count], cells.reshape(-1)[:count]

    def cell_samples(self, cells: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Points drawn uniformly inside the grid cells ``cells`` (each cell centred on its grid point)."""
        jitter = torch.rand(cells.shape[0], self.dim, generator=generator) - 0.5
        return self.cell_points[cells] + self.grid.spacing * jitter

    def samples(self, state: FockState, count: int, generator: torch.Generator) -> torch.Tensor:
        """``count`` generated points ``[count, dim]`` from ``state`` (no gradient): means, or homodyne draws."""
        with torch.no_grad():
            if self.readout == "mean":
                return self.means(state)[:count].float()
            _, cells = self.sample_cells(self.cell_probabilities(state), count, generator)
            return self.cell_samples(cells, generator)

    def sample(self, count: int, generator: torch.Generator, chunk: int = 512) -> torch.Tensor:
        """``count`` generated points ``[count, dim]``, in Fock simulations of at most ``chunk`` rows."""
        parts, left = [], count
        with torch.no_grad():
            while left > 0:
                rows = min(chunk, left)
                state = self.run(self.latent(rows, generator))
                parts.append(self.samples(state, rows, generator))
                left -= rows
        return torch.cat(parts)

    @staticmethod
    def lost_norm(state: FockState) -> torch.Tensor:
        """``1 - Tr rho`` per row ``[B]``: what the Fock cutoff truncated away."""
        return 1 - state.norm()
