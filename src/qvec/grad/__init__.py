"""Gradients of expectation values by methods other than backprop: adjoint, parameter shift and SPSA.

Each method takes ``(circuit, observables, params, ...)`` and returns ``[B, K]`` values whose
grad_fn is one custom autograd node for the whole batch.
"""

from .adjoint import adjoint_expval
from .shift import shift_expval
from .spsa import spsa_expval

__all__ = ["adjoint_expval", "shift_expval", "spsa_expval"]
