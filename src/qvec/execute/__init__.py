"""The one entry point from circuits and layers to backends.

``execute(circuit, params, measurement, backend=, diff_method=, shots=)`` runs a qubit batch and
chooses how its gradients are computed; ``run_photonic`` runs a photonic batch and ``expect_photonic`` reads
its ``<x_phi>`` and ``<n>``. Circuits' own methods (``Circuit.expval``, ``photonic.Circuit.run``) delegate
here. The backend capabilities (``RunsQubitBatches``, ``RunsPhotonicBatches``, ``ReadsPhotonicExpectations``,
``DifferentiatesNatively``) are defined with the backends, in ``qvec.backends.base``, so that declaring one
imports nothing above the backends.
"""

from qvec.backends.base import DifferentiatesNatively, ReadsPhotonicExpectations, RunsPhotonicBatches, RunsQubitBatches

from .measurements import Expval, Measurement, Probs, Samples
from .photonic import expect_photonic, run_photonic
from .qubit import DIFF_METHODS, execute, statevector

__all__ = [
    "DIFF_METHODS", "DifferentiatesNatively", "Expval", "Measurement", "Probs", "ReadsPhotonicExpectations",
    "RunsPhotonicBatches", "RunsQubitBatches", "Samples", "execute", "expect_photonic", "run_photonic", "statevector",
]
