"""Torch modules for quantum models: ``QuantumLayer`` (qubit circuits), ``PhotonicLayer`` (photonic
circuits) with their readouts, trainable templates and data encoders.

Templates and encoders are functions that build (or extend, with ``circuit=``) a circuit and return
it with the parameter names they created, ready for a layer's ``inputs=`` and ``weights=``.
"""

from .encoders import amplitude_angles, amplitude_encoding, angle_encoding, data_reuploading, iqp_encoding, iqp_features
from .layer import QuantumLayer
from .photonic import (
    FockProbabilities, MeanPhoton, PhotonicLayer, PositionDensity, QuadratureMean, QuadratureVariance, Readout,
)
from .templates import basic_entangler, cv_neural_net, hardware_efficient, strongly_entangling

__all__ = [
    "FockProbabilities", "MeanPhoton", "PhotonicLayer", "PositionDensity", "QuadratureMean", "QuadratureVariance",
    "QuantumLayer", "Readout", "amplitude_angles", "amplitude_encoding", "angle_encoding", "basic_entangler",
    "cv_neural_net", "data_reuploading", "hardware_efficient", "iqp_encoding", "iqp_features", "strongly_entangling",
]
