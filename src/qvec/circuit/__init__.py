"""The qubit circuit IR: gates, operations, parameters and Pauli-string observables."""

from .circuit import Circuit
from .gates import GATES, GateDefinition, gate_definition, gate_matrix
from .observables import PauliString, parse_observable
from .operation import Operation
from .parameters import Angle, ParameterBatch, bind_parameters
from .qasm import load_qasm, parse_qasm, to_qasm

__all__ = [
    "Angle", "Circuit", "GATES", "GateDefinition", "Operation", "ParameterBatch", "PauliString",
    "bind_parameters", "gate_definition", "gate_matrix", "load_qasm", "parse_observable", "parse_qasm", "to_qasm",
]
