"""``PhotonicLayer``: a photonic circuit as a torch module, with the readouts a CV model trains on.

Readouts are small values, each reading ``[B, width]`` from the batched Fock state; the layer
concatenates them on the last axis. Gradients flow by backpropagation through the Fock simulator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence, Union

import torch
from torch import nn

from qvec.backends.resolve import resolve_photonic_backend
from qvec.errors import InputError
from qvec.execute import expect_photonic, run_photonic
from qvec.photonic import DEFAULT_CUTOFF, Circuit, FockState
from qvec.photonic.expectations import Form
from qvec.photonic.measure import marginal
from qvec.sim.sampling import check_seed
from qvec.sim.simulate import real_dtype

from .weights import Init, check_names, initial_weights, layer_parameters

__all__ = [
    "FockProbabilities", "MeanPhoton", "PhotonicLayer", "PositionDensity", "QuadratureMean", "QuadratureVariance",
    "Readout",
]

PHOTONIC_DIFF_METHODS = ("best", "backprop")


def _check_mode(mode: int, what: str) -> None:
    if isinstance(mode, bool) or not isinstance(mode, int) or mode < 0:
        raise InputError(f"{what} needs a mode index (a non-negative integer), got {mode!r}")


@dataclass(frozen=True)
class QuadratureMean:
    """``<x_phi>`` of ``mode`` (``phi = 0`` is x, ``pi/2`` is p): one value per row."""

    mode: int
    phi: float = 0.0

    def width(self, n_modes: int, cutoff: int) -> int:
        return 1

    def read(self, state: FockState) -> torch.Tensor:
        return state.quad_expectation(self.mode, self.phi)[:, None]


@dataclass(frozen=True)
class QuadratureVariance:
    """The variance of ``x_phi`` on ``mode`` (hbar/2 for the vacuum): one value per row."""

    mode: int
    phi: float = 0.0

    def width(self, n_modes: int, cutoff: int) -> int:
        return 1

    def read(self, state: FockState) -> torch.Tensor:
        return state.quad_variance(self.mode, self.phi)[:, None]


@dataclass(frozen=True)
class MeanPhoton:
    """``<n>`` of ``mode``: one value per row."""

    mode: int

    def width(self, n_modes: int, cutoff: int) -> int:
        return 1

    def read(self, state: FockState) -> torch.Tensor:
        return state.mean_photon(self.mode)[:, None]


@dataclass(frozen=True)
class FockProbabilities:
    """Photon-number probabilities: of one ``mode`` (``cutoff`` values), or of all modes jointly when
    ``mode`` is None (``cutoff ** n_modes`` values, mode 0 the slowest index)."""

    mode: int | None = None

    def width(self, n_modes: int, cutoff: int) -> int:
        return cutoff if self.mode is not None else cutoff**n_modes

    def read(self, state: FockState) -> torch.Tensor:
        probs = state.fock_probs()
        if self.mode is None:
            return probs.reshape(state.batch_size, -1)
        return marginal(probs, self.mode)


@dataclass(frozen=True)
class PositionDensity:
    """The density of ``x_phi`` on ``mode`` at the points of ``grid`` (Hermite functions): one value per point."""

    mode: int
    grid: tuple[float, ...]
    phi: float = 0.0

    def __init__(self, mode: int, grid: Sequence[float] | torch.Tensor, phi: float = 0.0) -> None:
        values = torch.as_tensor(grid, dtype=torch.float64).detach()
        if values.dim() != 1 or values.numel() == 0 or not bool(torch.isfinite(values).all()):
            raise InputError(f"PositionDensity needs a non-empty 1-D grid of finite points, got shape {tuple(values.shape)}")
        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "grid", tuple(values.tolist()))
        object.__setattr__(self, "phi", phi)

    def width(self, n_modes: int, cutoff: int) -> int:
        return len(self.grid)

    def read(self, state: FockState) -> torch.Tensor:
        grid = torch.tensor(self.grid, dtype=state.tensor.real.dtype, device=state.tensor.device)
        return state.quadrature_density(self.mode, grid, self.phi)


Readout = Union[QuadratureMean, QuadratureVariance, MeanPhoton, FockProbabilities, PositionDensity]
READOUTS = (QuadratureMean, QuadratureVariance, MeanPhoton, FockProbabilities, PositionDensity)


def _check_readouts(readouts: Sequence[Readout], n_modes: int) -> tuple[Readout, ...]:
    if isinstance(readouts, READOUTS):
        readouts = (readouts,)
    if not isinstance(readouts, Sequence) or not readouts:
        raise InputError("readouts must be a non-empty list such as [QuadratureMean(0), MeanPhoton(1)]")
    for readout in readouts:
        if not isinstance(readout, READOUTS):
            raise InputError(f"unknown readout {readout!r}; use QuadratureMean, QuadratureVariance, MeanPhoton, "
                             "FockProbabilities or PositionDensity from qvec.nn")
        mode = readout.mode
        if mode is not None:
            _check_mode(mode, type(readout).__name__)
            if mode >= n_modes:
                raise InputError(f"{readout!r} reads mode {mode}, out of range for a {n_modes}-mode circuit")
    return tuple(readouts)


def _expectation_forms(readouts: tuple[Readout, ...], hbar: float) -> tuple[Form, ...] | None:
    """The readouts as expectation forms when all are ``<x_phi>`` (a float phi) or ``<n>``: the backend reads them
    (``qvec.execute.expect_photonic``; locally one node with the circuit); ``None`` when any is another kind."""
    forms = []
    for readout in readouts:
        if isinstance(readout, MeanPhoton):
            forms.append(Form(readout.mode))
        elif isinstance(readout, QuadratureMean) and isinstance(readout.phi, (int, float)):
            forms.append(Form(readout.mode, float(readout.phi), hbar))
        else:
            return None
    return tuple(forms)


class PhotonicLayer(nn.Module):
    """Readouts of a photonic ``circuit``: ``x [..., len(inputs)] -> [..., sum of readout widths]``.

    As ``QuantumLayer``: ``inputs`` from the last axis of ``x``, ``weights`` one ``nn.Parameter``.
    Active CV gates (squeezing, displacement, Kerr) want small weights, so ``init`` defaults to
    ``"normal"`` with standard deviation ``init_std``. The batch runs as one Fock simulation at ``cutoff``;
    ``renormalize`` and ``truncation_tol`` mean what they mean for ``photonic.Circuit.run``.
    """

    def __init__(self, circuit: Circuit, inputs: Sequence[str], weights: Sequence[str], readouts: Sequence[Readout], *,
                 cutoff: int = DEFAULT_CUTOFF, backend: Any = None, diff_method: str = "best", init: Init = "normal",
                 init_std: float = 0.1, seed: int | None = None, dtype: torch.dtype = torch.complex64,
                 device: Any = None, renormalize: bool = False, truncation_tol: float | None = None) -> None:
        super().__init__()
        if not isinstance(circuit, Circuit):
            raise InputError(f"PhotonicLayer takes a qvec.photonic.Circuit, got {type(circuit).__name__} "
                             "(qubit circuits go in qvec.nn.QuantumLayer)")
        if diff_method not in PHOTONIC_DIFF_METHODS:
            raise InputError(f"diff_method {diff_method!r} is not available for photonic circuits, whose gradients "
                             f"are backpropagated through the Fock simulator; accepted: "
                             f"{', '.join(map(repr, PHOTONIC_DIFF_METHODS))}")
        if isinstance(cutoff, bool) or not isinstance(cutoff, int) or cutoff < 1:
            raise InputError(f"cutoff must be a positive integer, got {cutoff!r}")
        check_seed(seed)
        self.circuit, self.cutoff, self.dtype = circuit, cutoff, dtype
        self.renormalize, self.truncation_tol = renormalize, truncation_tol
        self.inputs, self.weight_names = check_names(circuit.parameters, inputs, weights)
        self.readouts = _check_readouts(readouts, circuit.n_modes)
        self._forms = _expectation_forms(self.readouts, circuit.hbar)
        self.backend = resolve_photonic_backend(backend)
        real = real_dtype(dtype)
        self.weights = nn.Parameter(initial_weights(len(self.weight_names), init, seed, real, std=init_std).to(device))

    @property
    def n_outputs(self) -> int:
        return sum(r.width(self.circuit.n_modes, self.cutoff) for r in self.readouts)

    def state(self, x: torch.Tensor | None = None) -> tuple[torch.Size, FockState]:
        """The leading batch shape of ``x`` and the batched Fock state for its rows."""
        leading, params = layer_parameters(x, self.inputs, self.weight_names, self.weights)
        state = run_photonic(self.circuit, params, cutoff=self.cutoff, dtype=self.dtype, device=self.weights.device,
                             backend=self.backend, renormalize=self.renormalize, truncation_tol=self.truncation_tol)
        return leading, state

    def forward(self, x: torch.Tensor | None = None) -> torch.Tensor:
        if self._forms is None:
            leading, state = self.state(x)
            values = torch.cat([readout.read(state) for readout in self.readouts], dim=-1)
        else:
            leading, params = layer_parameters(x, self.inputs, self.weight_names, self.weights)
            values = expect_photonic(self.circuit, params, self._forms, cutoff=self.cutoff, dtype=self.dtype,
                                     device=self.weights.device, backend=self.backend, renormalize=self.renormalize,
                                     truncation_tol=self.truncation_tol)
        if not self.inputs:  # one row serves every row of x
            values = values.expand(math.prod(leading), values.shape[-1])
        return values if values.shape[:-1] == leading else values.reshape(*leading, values.shape[-1])

    def extra_repr(self) -> str:
        return (f"n_modes={self.circuit.n_modes}, cutoff={self.cutoff}, inputs={len(self.inputs)}, "
                f"weights={len(self.weight_names)}, outputs={self.n_outputs}, backend={self.backend!r}")
