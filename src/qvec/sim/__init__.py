"""The batched qubit statevector engine: one vectorized pass for B parameter rows.

Verbs, each in its own module: ``program`` (compile and fuse), ``matrices`` (build gate
matrices), ``apply`` (kernels), ``simulate`` (bind, plan, chunk), ``measure`` (readouts),
``sampling`` (shots).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch

from qvec.circuit import Circuit
from qvec.circuit.observables import Hamiltonian, ObservableTerms, PauliString, expand_observables
from qvec.circuit.parameters import ParamValue
from qvec.errors import InputError
from qvec.tensor_cache import tensor_cache

from .fastpath import fast_expval
from .measure import observable_expectations, probabilities
from .memory import memory_budget, set_memory_budget
from .sampling import SAMPLE_BYTES_PER_SHOT, check_seed, check_shots, counts, sample_indices, uniform_draws
from .simulate import RowOutput, Simulation, prepare, real_dtype, simulate

__all__ = [
    "Simulation", "counts", "expval", "memory_budget", "prepare", "probs", "sample", "set_memory_budget", "simulate",
]

Params = Mapping[str, ParamValue] | None


@tensor_cache(maxsize=1024)
def _parse_observables(observables: tuple[str | PauliString | Hamiltonian, ...], n_qubits: int) -> ObservableTerms:
    return expand_observables(list(observables), n_qubits)


def expval(circuit: Circuit, observables: Sequence[str], params: Params = None, *,
           dtype: torch.dtype = torch.complex64, device: Any = None) -> torch.Tensor:
    """Expectation values ``[B, len(observables)]`` of Pauli strings or weighted sums of them (float32, or
    float64 for complex128); every distinct string is read once from each state."""
    if isinstance(observables, (str, PauliString, Hamiltonian)):
        observables = [observables]
    if not isinstance(observables, Sequence):
        raise InputError(f"observables must be a list of observables such as ['Z0', 'X1'], got {observables!r}")
    if not observables:
        raise InputError("expval needs at least one observable, got none")
    strings = _parse_observables(tuple(observables), circuit.n_qubits)
    fast = fast_expval(circuit, strings, params, dtype, device)
    if fast is not None:
        return fast
    simulation = prepare(circuit, params, dtype=dtype, device=device,
                         output=RowOutput("expectation values", per_row=len(strings) * 8))
    return simulation.map_rows(lambda state: observable_expectations(state, strings, circuit.n_qubits))


def probs(circuit: Circuit, params: Params = None, *, dtype: torch.dtype = torch.complex64,
          device: Any = None) -> torch.Tensor:
    """Basis-state probabilities ``[B, 2**n]``, qubit 0 the least significant bit."""
    output = RowOutput("probabilities", per_amplitude=real_dtype(dtype).itemsize)
    return prepare(circuit, params, dtype=dtype, device=device, output=output).map_rows(probabilities)


def sample(circuit: Circuit, shots: int, params: Params = None, *, seed: int | None = None,
           dtype: torch.dtype = torch.complex64, device: Any = None) -> torch.Tensor:
    """Measured basis states ``[B, shots]`` as integers; the same seed gives the same samples.

    Rows run in chunks: a chunk's probabilities are sampled and dropped, so only the samples are kept.
    """
    check_shots(shots)
    check_seed(seed)
    # Per row: its probabilities and their running sum, both float64, while the row is sampled.
    output = RowOutput("samples", per_row=shots * SAMPLE_BYTES_PER_SHOT, working_per_amplitude=2 * 8,
                       advice="lower the shots or the batch")
    with torch.no_grad():
        simulation = prepare(circuit, params, dtype=dtype, device=device, output=output)
        uniforms = uniform_draws(simulation.batch_size, shots, seed, simulation.device)
        samples = torch.empty(simulation.batch_size, shots, dtype=torch.int64, device=simulation.device)
        with simulation.allocation_failures_as_errors():
            for rows in simulation.chunks():
                sample_indices(probabilities(simulation.state(rows)), uniforms[rows], out=samples[rows])
        return samples
