"""The batched Fock state a photonic run returns, with its readouts."""

from __future__ import annotations

import math
from typing import Sequence

import torch

from qvec.errors import InputError

from . import measure, sampling
from .prepare import to_density_matrix

__all__ = ["FockState"]


class FockState:
    """B Fock states at one cutoff: a ket ``[B, c, ..., c]`` or a density matrix ``[B, c.., c..]``.

    Quadratures follow Strawberry Fields: ``x_phi = sqrt(hbar/2) (a e^{-i phi} + a^dag e^{i phi})``,
    so ``phi = 0`` is x and ``phi = pi/2`` is p. Every readout is differentiable unless it samples.
    """

    def __init__(self, tensor: torch.Tensor, *, n_modes: int, cutoff: int, pure: bool, hbar: float = 2.0) -> None:
        self.tensor = tensor
        self.n_modes = n_modes
        self.cutoff = cutoff
        self.is_pure = pure
        self.hbar = hbar

    @property
    def batch_size(self) -> int:
        return self.tensor.shape[0]

    def __repr__(self) -> str:
        kind = "ket" if self.is_pure else "density matrix"
        return f"FockState(batch_size={self.batch_size}, n_modes={self.n_modes}, cutoff={self.cutoff}, {kind})"

    def _mode(self, mode: int) -> int:
        if isinstance(mode, bool) or not isinstance(mode, int) or not 0 <= mode < self.n_modes:
            raise InputError(f"mode {mode!r} is out of range for a {self.n_modes}-mode state")
        return mode

    def _modes(self, modes: int | Sequence[int]) -> list[int]:
        modes = [modes] if isinstance(modes, int) else list(modes)
        if not modes or len(set(modes)) != len(modes):
            raise InputError(f"modes must be distinct and non-empty, got {modes}")
        return [self._mode(m) for m in modes]

    # -- the state itself -----------------------------------------------------------------
    def ket(self) -> torch.Tensor:
        """Amplitudes ``[B, c, ..., c]``; only for pure states."""
        if not self.is_pure:
            raise InputError("this state is mixed (loss or thermal states); use density_matrix()")
        return self.tensor

    def density_matrix(self) -> torch.Tensor:
        """``[B, c.., c..]``: ket axes (one per mode) then bra axes."""
        return to_density_matrix(self.tensor) if self.is_pure else self.tensor

    def norm(self) -> torch.Tensor:
        """Norm (trace) of each row ``[B]``: below 1 by what truncation lost."""
        return measure.norms(self.tensor, self.n_modes)

    def renormalized(self) -> FockState:
        """The same state with every row scaled to norm 1."""
        norm = self.norm().reshape([-1] + [1] * (self.tensor.dim() - 1))
        tensor = self.tensor / (norm.sqrt() if self.is_pure else norm)
        return FockState(tensor, n_modes=self.n_modes, cutoff=self.cutoff, pure=self.is_pure, hbar=self.hbar)

    def fock_probs(self) -> torch.Tensor:
        """Fock probabilities ``[B, c, ..., c]``, mode 0 the slowest index."""
        return measure.probabilities(self.tensor, self.n_modes)

    def reduced_dm(self, modes: int | Sequence[int]) -> torch.Tensor:
        """Density matrix of ``modes`` with the others traced out, ``[B] + [c] * 2k``."""
        return measure.reduced_density_matrix(self.tensor, self.n_modes, self._modes(modes))

    def reduced_state(self, modes: int | Sequence[int]) -> FockState:
        """The reduced (mixed) state of ``modes``, as a FockState of ``len(modes)`` modes."""
        modes = self._modes(modes)
        return FockState(self.reduced_dm(modes), n_modes=len(modes), cutoff=self.cutoff, pure=False, hbar=self.hbar)

    # -- expectation values ---------------------------------------------------------------
    def _moments(self, mode: int) -> tuple[torch.Tensor, ...]:
        return measure.single_mode_moments(self.reduced_dm([self._mode(mode)]))

    def mean_photon(self, mode: int) -> torch.Tensor:
        """``<n>`` of ``mode``, ``[B]``."""
        return self._moments(mode)[2]

    def photon_number_variance(self, mode: int) -> torch.Tensor:
        """``<n^2> - <n>^2`` of ``mode``, ``[B]``."""
        marginal = self.reduced_dm([self._mode(mode)]).diagonal(dim1=1, dim2=2).real
        n = torch.arange(self.cutoff, dtype=marginal.dtype, device=marginal.device)
        mean = (marginal * n).sum(-1)
        return (marginal * n * n).sum(-1) - mean * mean

    def quad_expectation(self, mode: int, phi: float | torch.Tensor = 0.0) -> torch.Tensor:
        """``<x_phi>`` of ``mode``, ``[B]``: ``sqrt(2 hbar) Re(e^{-i phi} <a>)``."""
        lower = self._moments(mode)[0]
        phase = torch.polar(torch.ones_like(lower.real), -torch.as_tensor(phi, dtype=lower.real.dtype,
                                                                           device=lower.device))
        return math.sqrt(2 * self.hbar) * (phase * lower).real

    def quad_variance(self, mode: int, phi: float | torch.Tensor = 0.0) -> torch.Tensor:
        """Variance of ``x_phi`` on ``mode``, ``[B]`` (hbar/2 for the vacuum)."""
        lower, lower2, number, trace = self._moments(mode)
        angle = torch.as_tensor(phi, dtype=number.dtype, device=number.device)
        second = (torch.polar(torch.ones_like(number), -2 * angle) * lower2).real
        mean_square = self.hbar / 2 * (2 * second + 2 * number + trace)
        mean = math.sqrt(2 * self.hbar) * (torch.polar(torch.ones_like(number), -angle) * lower).real
        return mean_square - mean * mean

    def quadrature_density(self, modes: int | Sequence[int], grid: torch.Tensor | Sequence[float],
                           phi: float = 0.0) -> torch.Tensor:
        """P(x) of one mode ``[B, G]`` or the joint P(x, y, ...) of several ``[B, G, G, ...]`` on ``grid``."""
        grid = torch.as_tensor(grid, device=self.tensor.device)
        if grid.dim() != 1 or not grid.is_floating_point():
            raise InputError(f"grid must be a 1-D tensor of real points, got shape {tuple(grid.shape)}")
        density = measure.quadrature_density(self.tensor, self.n_modes, self._modes(modes), grid, self.hbar, phi)
        return density.to(self.tensor.real.dtype)

    # -- samples --------------------------------------------------------------------------
    def sample_fock(self, shots: int, seed: int | None = None) -> torch.Tensor:
        """Photon counts ``[B, shots, M]`` (int64), seeded when ``seed`` is given."""
        return sampling.sample_photon_numbers(self.tensor, self.n_modes, _shots(shots), seed)

    def sample_homodyne(self, mode: int, shots: int, phi: float = 0.0, seed: int | None = None) -> torch.Tensor:
        """Homodyne outcomes of ``x_phi`` on ``mode``, ``[B, shots]``, seeded when ``seed`` is given."""
        return sampling.sample_homodyne(self.tensor, self.n_modes, self._mode(mode), _shots(shots), self.hbar, phi, seed)


def _shots(shots: int) -> int:
    if isinstance(shots, bool) or not isinstance(shots, int) or shots < 1:
        raise InputError(f"shots must be a positive integer, got {shots!r}")
    return shots
