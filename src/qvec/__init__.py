"""qvec: quantum machine learning in which every circuit execution is a batch."""

from .circuit import Circuit

__version__ = "0.1.0"
__all__ = ["Circuit", "__version__"]
