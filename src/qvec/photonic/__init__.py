"""Photonic (continuous-variable) circuits on a batched, differentiable Fock-space simulator.

``Circuit`` builds a program with Strawberry Fields' conventions; ``Circuit.run`` executes a
batch of parameter rows as one vectorized pass and returns a ``FockState``;
``load_blackbird`` reads Strawberry Fields' ``.xbb`` programs.
"""

from .blackbird import BlackbirdProgram, load_blackbird, parse_blackbird
from .circuit import Circuit
from .simulate import DEFAULT_CUTOFF, DEFAULT_TRUNCATION_TOL, simulate
from .state import FockState
from .truncation import TruncationWarning

__all__ = [
    "BlackbirdProgram", "Circuit", "DEFAULT_CUTOFF", "DEFAULT_TRUNCATION_TOL", "FockState", "TruncationWarning",
    "load_blackbird", "parse_blackbird", "simulate",
]
