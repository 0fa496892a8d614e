"""The photonic circuit: preparations, gates and channels on ``n_modes`` modes.

Conventions are Strawberry Fields' (hbar = 2 by default). Gate methods take modes first, then
parameters; a parameter is a float, a parameter name (``str``) or a tensor (a scalar shared by
the batch, or a 1-D tensor with one value per row), exactly as on the qubit side.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

import torch

from qvec.circuit.parameters import Angle, ParamValue, check_angle
from qvec.errors import InputError

from .interferometer import check_unitary, decompose_unitary
from .operations import PREPARATION, SPECS, Operation

if TYPE_CHECKING:
    from .state import FockState

__all__ = ["Circuit"]

Params = Mapping[str, ParamValue] | None


class Circuit:
    """A photonic circuit template; ``run`` executes it for a batch of parameter rows."""

    def __init__(self, n_modes: int, hbar: float = 2.0) -> None:
        if isinstance(n_modes, bool) or not isinstance(n_modes, int) or n_modes < 1:
            raise InputError(f"n_modes must be a positive integer, got {n_modes!r}")
        if isinstance(hbar, bool) or not isinstance(hbar, (int, float)) or not hbar > 0 or not math.isfinite(hbar):
            raise InputError(f"hbar must be a positive number, got {hbar!r}")
        self.n_modes = n_modes
        self.hbar = float(hbar)
        self._operations: list[Operation] = []
        self._touched: set[int] = set()
        self._names: dict[str, None] = {}  # parameters in order of first use, kept up as operations are appended
        self._tensor_angles: list[torch.Tensor] = []

    # -- building -------------------------------------------------------------------------
    def append(self, name: str, modes: Sequence[int], params: Sequence[Angle] = (), data: Any = None) -> Circuit:
        """Append one operation after checking its modes and parameters; returns the circuit."""
        spec = SPECS.get(name)
        if spec is None:
            raise InputError(f"unknown photonic operation {name!r}; known: {', '.join(SPECS)}")
        modes = self._check_modes(name, tuple(modes), spec.n_modes)
        if len(params) != len(spec.param_names):
            raise InputError(f"{name} takes {len(spec.param_names)} parameter(s) {spec.param_names}, got {len(params)}")
        checked = tuple(_checked(p, f"parameter {pname!r} of {name} on modes {modes}")
                        for p, pname in zip(params, spec.param_names))
        if spec.role == PREPARATION and self._touched & set(modes):
            raise InputError(f"{name} prepares mode(s) {modes}, but an earlier operation already acts on them; "
                             "prepare a mode before applying gates to it")
        self._touched.update(modes)
        operation = Operation(name, modes, checked, data)
        self._operations.append(operation)
        self._names.update(dict.fromkeys(operation.parameter_names))
        self._tensor_angles.extend(p for p in checked if isinstance(p, torch.Tensor))
        return self

    def _check_modes(self, name: str, modes: tuple[int, ...], arity: int) -> tuple[int, ...]:
        if arity and len(modes) != arity:
            raise InputError(f"{name} acts on {arity} mode(s), got modes {modes}")
        if not modes:
            raise InputError(f"{name} needs at least one mode")
        for mode in modes:
            if isinstance(mode, bool) or not isinstance(mode, int) or not 0 <= mode < self.n_modes:
                raise InputError(f"mode {mode!r} of {name} is out of range for a {self.n_modes}-mode circuit")
        if len(set(modes)) != len(modes):
            raise InputError(f"{name} names a mode twice in {modes}")
        return modes

    # State preparations (each must be the first operation on its modes).
    def vacuum(self, mode: int) -> Circuit: return self.append("vacuum", (mode,))
    def coherent(self, mode: int, r: Angle = 0.0, phi: Angle = 0.0) -> Circuit: return self.append("coherent", (mode,), (r, phi))
    def squeezed(self, mode: int, r: Angle = 0.0, phi: Angle = 0.0) -> Circuit: return self.append("squeezed", (mode,), (r, phi))

    def displaced_squeezed(self, mode: int, r_d: Angle = 0.0, phi_d: Angle = 0.0, r_s: Angle = 0.0,
                           phi_s: Angle = 0.0) -> Circuit:
        """D(r_d e^{i phi_d}) S(r_s e^{i phi_s}) |0>."""
        return self.append("displaced_squeezed", (mode,), (r_d, phi_d, r_s, phi_s))

    def fock(self, mode: int, n: int) -> Circuit:
        """The Fock state |n> (n must be below the cutoff the circuit runs at)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise InputError(f"fock state on mode {mode} needs a non-negative integer photon number, got {n!r}")
        return self.append("fock", (mode,), (), n)

    def thermal(self, mode: int, nbar: Angle) -> Circuit:
        """A thermal state with mean photon number ``nbar`` (makes the simulation mixed)."""
        if isinstance(nbar, (int, float)) and not isinstance(nbar, bool) and nbar < 0:
            raise InputError(f"thermal state on mode {mode} needs nbar >= 0, got {nbar}")
        return self.append("thermal", (mode,), (nbar,))

    def ket(self, modes: int | Sequence[int], amplitudes: torch.Tensor) -> Circuit:
        """An arbitrary ket on ``modes``: shape ``[c'] * k`` (shared) or ``[B] + [c'] * k`` (per row), c' <= cutoff."""
        modes = (modes,) if isinstance(modes, int) else tuple(modes)
        if not isinstance(amplitudes, torch.Tensor) or amplitudes.dim() not in (len(modes), len(modes) + 1):
            raise InputError(f"ket on modes {modes} needs a tensor with {len(modes)} or {len(modes) + 1} dimensions")
        if not bool(torch.isfinite(torch.view_as_real(amplitudes.detach().to(torch.complex128))).all()):
            raise InputError(f"ket on modes {modes} has non-finite amplitudes")
        return self.append("ket", modes, (), amplitudes)

    # Gates.
    def d(self, mode: int, r: Angle, phi: Angle = 0.0) -> Circuit: return self.append("d", (mode,), (r, phi))
    def s(self, mode: int, r: Angle, phi: Angle = 0.0) -> Circuit: return self.append("s", (mode,), (r, phi))
    def r(self, mode: int, phi: Angle) -> Circuit: return self.append("r", (mode,), (phi,))
    def k(self, mode: int, kappa: Angle) -> Circuit: return self.append("k", (mode,), (kappa,))

    def bs(self, m1: int, m2: int, theta: Angle = math.pi / 4, phi: Angle = 0.0) -> Circuit:
        return self.append("bs", (m1, m2), (theta, phi))

    def mz(self, m1: int, m2: int, phi_in: Angle, phi_ex: Angle) -> Circuit:
        return self.append("mz", (m1, m2), (phi_in, phi_ex))

    def s2(self, m1: int, m2: int, r: Angle, phi: Angle = 0.0) -> Circuit:
        return self.append("s2", (m1, m2), (r, phi))

    def ck(self, m1: int, m2: int, kappa: Angle) -> Circuit:
        return self.append("ck", (m1, m2), (kappa,))

    def interferometer(self, modes: Sequence[int], unitary: Any) -> Circuit:
        """Passive linear optics ``unitary`` (one-photon transfer matrix) as rotations and beamsplitters."""
        modes = self._check_modes("interferometer", tuple(modes), 0)
        for element in decompose_unitary(check_unitary(unitary, len(modes))):
            if element.theta is None:
                self.r(modes[element.mode], element.phi)
            else:
                self.bs(modes[element.mode], modes[element.mode + 1], element.theta, element.phi)
        return self

    def loss(self, mode: int, T: Angle) -> Circuit:
        """Pure loss with transmissivity ``T`` in [0, 1] (makes the simulation mixed)."""
        if isinstance(T, (int, float)) and not isinstance(T, bool) and not 0.0 <= T <= 1.0:
            raise InputError(f"loss on mode {mode} needs a transmissivity in [0, 1], got {T}")
        return self.append("loss", (mode,), (T,))

    # -- inspection -----------------------------------------------------------------------
    @property
    def operations(self) -> tuple[Operation, ...]:
        return tuple(self._operations)

    @property
    def parameters(self) -> list[str]:
        """Parameter names in order of first use."""
        return list(self._names)

    @property
    def is_mixed(self) -> bool:
        """Whether the simulation needs density matrices (thermal states or loss)."""
        return any(op.name in ("thermal", "loss") for op in self._operations)

    def tensor_angles(self) -> list[torch.Tensor]:
        return list(self._tensor_angles)

    def __len__(self) -> int:
        return len(self._operations)

    def __iter__(self) -> Iterator[Operation]:
        return iter(self._operations)

    def __repr__(self) -> str:
        return f"photonic.Circuit(n_modes={self.n_modes}, operations={len(self._operations)})"

    def __str__(self) -> str:
        return "\n".join([repr(self), *(f"  {op!r}" for op in self._operations)])

    # -- execution ------------------------------------------------------------------------
    def run(self, params: Params = None, cutoff: int | None = None, *, dtype: torch.dtype = torch.complex64,
            device: Any = None, backend: Any = None, renormalize: bool = False,
            truncation_tol: float | None = None) -> FockState:
        """The batched Fock state ``[B, c, ..., c]`` for the parameter rows in ``params``.

        ``cutoff`` defaults to ``qvec.photonic.DEFAULT_CUTOFF``. Rows whose norm falls below
        ``1 - truncation_tol`` raise one ``TruncationWarning``; ``renormalize`` rescales them.
        ``backend`` is ``"local"`` (the local Fock simulator, the default) or an object whose class declares
        ``qvec.backends.RunsPhotonicBatches``; the run goes through ``qvec.execute.run_photonic``.
        """
        from qvec.execute import run_photonic
        return run_photonic(self, params, cutoff=cutoff, dtype=dtype, device=device, backend=backend,
                            renormalize=renormalize, truncation_tol=truncation_tol)


def _checked(value: Angle, what: str) -> Angle:
    try:
        return check_angle(value, what)
    except InputError:
        raise
    except ValueError as exc:
        raise InputError(str(exc)) from exc
