"""The qubit circuit IR: gates, operations, parameters, observables, and text diagrams."""

from .circuit import Circuit
from .draw import draw
from .gates import GATES, GateDefinition, gate_definition, gate_matrix
from .observables import Hamiltonian, PauliString, expand_observables, parse_observable
from .operation import Operation
from .parameters import Angle, ParameterBatch, ParameterStack, ScaledParameter, bind_parameters
from .qasm import load_qasm, parse_qasm, to_qasm
from .specs import CircuitSpecs

__all__ = [
    "Angle", "Circuit", "CircuitSpecs", "GATES", "GateDefinition", "Hamiltonian", "Operation", "ParameterBatch",
    "ParameterStack", "PauliString", "ScaledParameter", "bind_parameters", "draw", "expand_observables",
    "gate_definition", "gate_matrix", "load_qasm", "parse_observable", "parse_qasm", "to_qasm",
]
