"""The batched Fock state a photonic run returns, with its readouts."""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch

from qvec.errors import InputError
from qvec.sim.memory import check_fits

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
        self._cache: dict[object, object] = {}  # readouts shared by several methods (the tensor never changes)

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
        if not self.is_pure:
            return self.tensor
        self._check_density_matrix_fits(self.n_modes)
        return to_density_matrix(self.tensor)

    def norm(self) -> torch.Tensor:
        """Norm (trace) of each row ``[B]``: below 1 by what truncation lost."""
        return self.fock_probs().reshape(self.batch_size, -1).sum(-1)

    def renormalized(self) -> FockState:
        """The same state with every row scaled to norm 1."""
        norm = self.norm().reshape([-1] + [1] * (self.tensor.dim() - 1))
        tensor = self.tensor / (norm.sqrt() if self.is_pure else norm)
        return FockState(tensor, n_modes=self.n_modes, cutoff=self.cutoff, pure=self.is_pure, hbar=self.hbar)

    def fock_probs(self) -> torch.Tensor:
        """Fock probabilities ``[B, c, ..., c]``, mode 0 the slowest index."""
        if "probs" not in self._cache:
            self._cache["probs"] = measure.probabilities(self.tensor, self.n_modes)
        return self._cache["probs"]

    def reduced_dm(self, modes: int | Sequence[int]) -> torch.Tensor:
        """Density matrix of ``modes`` with the others traced out, ``[B] + [c] * 2k``."""
        modes = self._modes(modes)
        self._check_density_matrix_fits(len(modes))
        return measure.reduced_density_matrix(self.tensor, self.n_modes, modes)

    def _check_density_matrix_fits(self, n_modes: int) -> None:
        """Refuse, before allocating, a density matrix of ``n_modes`` modes ``[B, c^k, c^k]`` beyond the budget."""
        needed = self.batch_size * self.cutoff ** (2 * n_modes) * self.tensor.element_size()
        check_fits(needed, f"a density matrix of {n_modes} mode(s) at cutoff {self.cutoff} x B = {self.batch_size}",
                   self.tensor.device, "read out fewer modes, or lower the cutoff or the batch")

    def reduced_state(self, modes: int | Sequence[int]) -> FockState:
        """The reduced (mixed) state of ``modes``, as a FockState of ``len(modes)`` modes."""
        modes = self._modes(modes)
        return FockState(self.reduced_dm(modes), n_modes=len(modes), cutoff=self.cutoff, pure=False, hbar=self.hbar)

    # -- expectation values ---------------------------------------------------------------
    def _cached(self, key: tuple, compute: Callable[[], torch.Tensor]) -> torch.Tensor:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def _lowering(self, mode: int, power: int) -> torch.Tensor:
        """``<a^power>`` of one mode (power 1 or 2), ``[B]`` complex."""
        mode = self._mode(mode)
        if self.is_pure:
            return self._cached(("lower", mode, power), lambda: measure.ket_lowering(self.tensor, mode, power))
        moments = self._cached(("moments", mode), lambda: measure.single_mode_moments(self.reduced_dm([mode])))
        return moments[power - 1]

    def _marginal(self, mode: int) -> torch.Tensor:
        mode = self._mode(mode)
        return self._cached(("marginal", mode), lambda: measure.marginal(self.fock_probs(), mode))

    def mean_photon(self, mode: int) -> torch.Tensor:
        """``<n>`` of ``mode``, ``[B]``."""
        marginal = self._marginal(mode)
        return marginal @ torch.arange(self.cutoff, dtype=marginal.dtype, device=marginal.device)

    def photon_number_variance(self, mode: int) -> torch.Tensor:
        """``<n^2> - <n>^2`` of ``mode``, ``[B]``."""
        marginal = self._marginal(mode)
        n = torch.arange(self.cutoff, dtype=marginal.dtype, device=marginal.device)
        mean = marginal @ n
        return marginal @ (n * n) - mean * mean

    def quad_expectation(self, mode: int, phi: float | torch.Tensor = 0.0) -> torch.Tensor:
        """``<x_phi>`` of ``mode``, ``[B]``: ``sqrt(2 hbar) Re(e^{-i phi} <a>)``."""
        return math.sqrt(2 * self.hbar) * _turned(self._lowering(mode, 1), _angle(phi))

    def quad_variance(self, mode: int, phi: float | torch.Tensor = 0.0) -> torch.Tensor:
        """Variance of ``x_phi`` on ``mode``, ``[B]`` (hbar/2 for the vacuum)."""
        phi = _angle(phi)
        marginal = self._marginal(mode)
        number, trace = self.mean_photon(mode), marginal.sum(-1)
        mean_square = self.hbar / 2 * (2 * _turned(self._lowering(mode, 2), 2 * phi) + 2 * number + trace)
        mean = self.quad_expectation(mode, phi)
        return mean_square - mean * mean

    def quadrature_density(self, modes: int | Sequence[int], grid: torch.Tensor | Sequence[float],
                           phi: float = 0.0) -> torch.Tensor:
        """P(x) of one mode ``[B, G]`` or the joint P(x, y, ...) of several ``[B, G, G, ...]`` on ``grid``."""
        try:
            grid = torch.as_tensor(grid, device=self.tensor.device)
        except (TypeError, ValueError, RuntimeError):
            raise InputError(f"grid must be a 1-D tensor of real points, got {type(grid).__name__}") from None
        if grid.dim() != 1 or not grid.is_floating_point():
            raise InputError(f"grid must be a 1-D tensor of real points, got shape {tuple(grid.shape)}")
        modes = self._modes(modes)
        measure.check_quadrature_density_fits(self.tensor, self.n_modes, len(modes), grid.shape[0])
        density = measure.quadrature_density(self.tensor, self.n_modes, modes, grid, self.hbar, _angle(phi))
        return density.to(self.tensor.real.dtype)

    # -- samples --------------------------------------------------------------------------
    def sample_fock(self, shots: int, seed: int | None = None) -> torch.Tensor:
        """Photon counts ``[B, shots, M]`` (int64), seeded when ``seed`` is given."""
        return sampling.sample_photon_numbers(self.tensor, self.n_modes, shots, seed)

    def sample_homodyne(self, mode: int, shots: int, phi: float = 0.0, seed: int | None = None) -> torch.Tensor:
        """Homodyne outcomes of ``x_phi`` on ``mode``, ``[B, shots]``, seeded when ``seed`` is given."""
        return sampling.sample_homodyne(self.tensor, self.n_modes, self._mode(mode), shots, self.hbar, _angle(phi), seed)


def _angle(phi: float | torch.Tensor) -> float | torch.Tensor:
    """A quadrature angle: a finite real number or a real tensor, else an ``InputError``."""
    if isinstance(phi, torch.Tensor):
        if phi.is_complex() or not bool(torch.isfinite(phi.detach()).all()):
            raise InputError(f"phi must be a finite real angle, got {phi}")
        return phi
    if isinstance(phi, bool) or not isinstance(phi, (int, float)) or not math.isfinite(phi):
        raise InputError(f"phi must be a finite real angle, got {phi!r}")
    return float(phi)


def _turned(value: torch.Tensor, phi: float | torch.Tensor) -> torch.Tensor:
    """``Re(e^{-i phi} value)``."""
    if isinstance(phi, torch.Tensor):
        return (torch.polar(torch.ones_like(phi, dtype=value.real.dtype), -phi.to(value.real.dtype)) * value).real
    return value.real * math.cos(phi) + value.imag * math.sin(phi)
