"""Truncation is never silent: rows that lost norm to the cutoff raise one warning per run."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import torch

from .state import FockState

__all__ = ["TruncationWarning", "check_truncation"]


class TruncationWarning(UserWarning):
    """Some rows of a Fock state lost more norm to the cutoff than the tolerance allows.

    ``summary`` says what was lost and where; ``advice`` what to do, in words that hold for the
    library and the command line alike (a caller may put its own advice after ``summary``).
    """

    def __init__(self, summary: str, advice: str) -> None:
        super().__init__(f"{summary} {advice}")
        self.summary, self.advice = summary, advice


def check_truncation(state: FockState, tol: float, *, renormalize: bool = False) -> FockState:
    """Warn once if any row's norm is below ``1 - tol``; return the state, rescaled if asked."""
    lost = 1.0 - _norms(state)  # numpy for a CPU ket (each torch call costs tens of us at small batches)
    worst = int(lost.argmax())
    if float(lost[worst]) > tol:
        mode, edge = _edge_mode(state, worst)
        count = int((lost > tol).sum())
        summary = (f"Fock truncation at cutoff {state.cutoff}: {count} of {state.batch_size} row(s) lost more than "
                   f"{tol:g} of their norm; worst is row {worst}, which lost {float(lost[worst]):.3g}. Mode {mode} "
                   f"holds the most probability in its top level n={state.cutoff - 1} ({edge:.3g}).")
        advice = ("Raise the cutoff for exact results (the rows were renormalized)." if renormalize
                  else "Raise the cutoff, or renormalize the rows.")
        warnings.warn(TruncationWarning(summary, advice), stacklevel=_first_caller_outside_qvec())
    return state.renormalized() if renormalize else state


def _norms(state: FockState) -> torch.Tensor | np.ndarray:
    """Each row's norm ``[B]``, recording no autograd: a ket's as one vector norm (numpy's on the CPU), a density
    matrix's trace."""
    if not state.is_pure:
        return state.norm().detach()
    ket = state.tensor.detach().reshape(state.batch_size, -1)
    if ket.device.type == "cpu" and not ket.is_conj():
        parts = ket.resolve_neg().numpy()
        return np.square(parts.view(parts.real.dtype)).sum(1, dtype=np.float64)
    return torch.linalg.vector_norm(ket, dim=1).square()


_QVEC_ROOT = str(Path(__file__).resolve().parents[1])


def _first_caller_outside_qvec() -> int:
    """The stack level of the first frame outside the qvec package, so the warning points at the user's
    call however many layers (``Circuit.run``, ``qvec.execute``, a backend) lie in between."""
    level, frame = 2, sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(_QVEC_ROOT):
        level, frame = level + 1, frame.f_back
    return level


def _edge_mode(state: FockState, row: int) -> tuple[int, float]:
    """The mode with the most probability in its highest Fock level, in one row."""
    probs = state.fock_probs()[row].detach()
    edges = [float(probs.select(mode, state.cutoff - 1).sum()) for mode in range(state.n_modes)]
    mode = max(range(state.n_modes), key=edges.__getitem__)
    return mode, edges[mode]
