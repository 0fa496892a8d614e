"""Run a circuit on a batch: bind parameters, compile, build shared numbers once, execute rows in chunks."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Mapping

import torch
from torch.utils.checkpoint import checkpoint

from qvec.circuit import Circuit
from qvec.circuit.parameters import ParameterBatch, ParamValue, ScaledParameter, bind_parameters
from qvec.errors import InputError

from .apply import Dense, Gate, Layer, Monomial, Step, apply_step
from .layers import ProductState, build_layers, product_state
from .matrices import GateMatrices, build_gate_matrices, fuse_runs
from .memory import allocation_failures_as_errors, check_fits, memory_budget, resolve_device, rows_per_chunk
from .program import GateSpec, GateStepSpec, LayerSpec, MonomialSpec, Program, compile_program

__all__ = ["PLANS", "PlanCache", "RowOutput", "Simulation", "prepare", "real_dtype", "simulate"]

# Merging a shared segment into one dense operator pays when the batch is large against 2**n:
# a GEMM element costs about this fraction of a memory-bound gate-application element (CPU).
GEMM_ELEMENT_COST = 0.05
DENSE_MAX_QUBITS = 12
# Working copies of a state row held during a forward pass, and extra ones per step under autograd.
ROW_COPIES = 4
ROW_COPIES_PER_STEP_WITH_GRAD = 2
# Past this, 2**n amplitudes overflow torch's int64 sizes; smaller registers are checked against the budget.
MAX_ADDRESSABLE_QUBITS = 60
# Circuit structures (and per-row splits) whose compiled programs the engine keeps.
PLAN_CACHE_SIZE = 256


@dataclass(frozen=True)
class RowOutput:
    """What a readout keeps per batch row, and needs besides the state while a row is read.

    Sizes are in bytes per row (``per_row``) plus bytes per amplitude of the row's ``2**n`` (``per_amplitude``),
    so that callers never compute ``2**n`` for a register too large to size.
    """

    name: str
    per_row: int = 0
    per_amplitude: int = 0
    working_per_amplitude: int = 0
    advice: str = "lower the batch"  # what to lower when the output does not fit

    def bytes_per_row(self, n_qubits: int) -> int:
        return self.per_row + self.per_amplitude * 2**n_qubits


def real_dtype(dtype: torch.dtype) -> torch.dtype:
    """The real dtype of a state dtype's parts; an ``InputError`` unless it is complex64 or complex128."""
    if dtype not in (torch.complex64, torch.complex128):
        raise InputError(f"dtype must be torch.complex64 or torch.complex128, but was {dtype}")
    return torch.float64 if dtype == torch.complex128 else torch.float32


def _addressable(n_qubits: int) -> int:
    """``n_qubits`` if a state of ``2**n_qubits`` amplitudes can even be sized, else an ``InputError``."""
    if n_qubits > MAX_ADDRESSABLE_QUBITS:
        raise InputError(f"{n_qubits} qubits: a state row would hold 2**{n_qubits} amplitudes, more than any memory "
                         f"holds (at most {MAX_ADDRESSABLE_QUBITS} qubits are even addressable): use fewer qubits")
    return n_qubits


def _gate_specs(circuit: Circuit) -> tuple[tuple[GateSpec, ...], tuple[tuple[frozenset[str], frozenset[int]], ...]]:
    """Each op as (gate, wires, angle sources), and the parameter names and tensor angles it reads."""
    tensor_index = {id(t): i for i, t in enumerate(circuit.tensor_angles())}
    gates, reads = [], []
    for op in circuit.operations:
        sources = []
        for angle in op.angles:
            if isinstance(angle, str):
                sources.append(("name", angle))
            elif isinstance(angle, ScaledParameter):
                sources.append(("scaled", (angle.name, angle.scale)))
            elif isinstance(angle, torch.Tensor):
                sources.append(("tensor", tensor_index[id(angle)]))
            else:
                sources.append(("const", angle))
        gates.append((op.gate, op.wires, tuple(sources)))
        names = frozenset(v if k == "name" else v[0] for k, v in sources if k in ("name", "scaled"))
        reads.append((names, frozenset(v for k, v in sources if k == "tensor")))
    return tuple(gates), tuple(reads)


class PlanCache:
    """The engine's compiled programs, kept here and not on the circuit (the IR holds no engine state).

    Keyed by the circuit object and its number of operations (a circuit changes only by appending, so
    an appended circuit gets a new key), checked through a weak reference so that a new circuit at a
    dead one's address never reads its plans, and by which operations are per-row; the least recently
    used entries past ``size`` are dropped. ``compilations`` counts the misses.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.compilations = 0
        self._entries: OrderedDict[tuple[int, int, Hashable], tuple[weakref.ref, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def derived(self, circuit: Circuit, key: Hashable, compute: Callable[[], Any]) -> Any:
        """What ``compute`` derives from the circuit's structure for ``key`` (e.g. a fast-path plan), kept here."""
        return self._get(circuit, key, compute)

    def _get(self, circuit: Circuit, extra: Hashable, compute: Callable[[], Any]) -> Any:
        key = (id(circuit), len(circuit), extra)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0]() is circuit:
                self._entries.move_to_end(key)
                return entry[1]
        with torch.inference_mode(False):  # a plan made during inference_mode must serve autograd later
            value = compute()
        with self._lock:
            self._entries[key] = (weakref.ref(circuit), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def program(self, circuit: Circuit, batch: ParameterBatch, tensors: list[torch.Tensor]) -> Program:
        """The program for this circuit's structure and this batch's per-row angles."""
        gates, reads = self.gate_specs(circuit)
        row_names = batch.row_names()
        row_tensors = {i for i, t in enumerate(tensors) if t.dim() == 1}
        row_ops = frozenset(i for i, (names, indices) in enumerate(reads)
                            if (row_names and not names.isdisjoint(row_names))
                            or (row_tensors and not indices.isdisjoint(row_tensors)))
        return self._get(circuit, row_ops, lambda: self._compile(circuit.n_qubits, gates, row_ops))

    def gate_specs(self, circuit: Circuit) -> tuple[tuple[GateSpec, ...], tuple]:
        """Each op as (gate, wires, angle sources), and the names and tensor angles it reads (once per circuit)."""
        return self._get(circuit, None, lambda: _gate_specs(circuit))

    def _compile(self, n_qubits: int, gates: tuple[GateSpec, ...], row_ops: frozenset[int]) -> Program:
        self.compilations += 1
        return compile_program(n_qubits, gates, row_ops)


PLANS = PlanCache(PLAN_CACHE_SIZE)


def _slice_batch(batch: ParameterBatch, tensors: list[torch.Tensor], rows: slice) -> tuple[ParameterBatch, list[torch.Tensor]]:
    values = {k: v[rows] if v.dim() == 1 else v for k, v in batch.values.items()}
    stacks = tuple((names, v[rows] if v.dim() == 2 else v) for names, v in batch.stacks)
    n_rows = len(range(*rows.indices(batch.batch_size)))
    return ParameterBatch(n_rows, values, stacks), [t[rows] if t.dim() == 1 else t for t in tensors]


def _is_per_row(spec: object) -> bool:
    return isinstance(spec, (LayerSpec, GateStepSpec)) and spec.per_row


class Simulation:
    """A bound, compiled circuit with its shared steps built once; yields row states chunk by chunk."""

    def __init__(self, circuit: Circuit, params: Mapping[str, ParamValue] | None, dtype: torch.dtype, device: Any,
                 output: RowOutput | None = None) -> None:
        self.real = real_dtype(dtype)
        self.dtype = dtype
        self.device = resolve_device(device)
        self.n_qubits = _addressable(circuit.n_qubits)
        self.tensors = circuit.tensor_angles()
        self.batch = bind_parameters(circuit.parameters, params, self.tensors, check_finite=False)
        self.program = PLANS.program(circuit, self.batch, self.tensors)
        self.chunk_rows = self._chunk_rows(output or RowOutput("readouts"))
        shared_ops = tuple(i for i in range(len(self.program.gates)) if i not in self.program.row_ops)
        self._shared_matrices = build_gate_matrices(self.program, self.batch, self.tensors, None, self.real, self.device, shared_ops)
        self._plan = self._shared_plan(self._materialize(per_row=False, matrices=self._shared_matrices))

    @property
    def batch_size(self) -> int:
        return self.batch.batch_size

    def _element_size(self) -> int:
        return torch.empty((), dtype=self.dtype).element_size()

    def _records_graph(self) -> bool:
        """Whether autograd will keep intermediate states: grad mode is on and some angle requires grad."""
        angles = [*self.batch.values.values(), *self.tensors]
        return torch.is_grad_enabled() and any(t.requires_grad for t in angles)

    def _bytes_per_row(self) -> int:
        grad_copies = ROW_COPIES_PER_STEP_WITH_GRAD * len(self.program.steps) if self._records_graph() else 0
        return (ROW_COPIES + grad_copies) * (2**self.n_qubits) * self._element_size()

    def _chunk_rows(self, output: RowOutput) -> int:
        """Rows per chunk, after checking that the whole output and one row's working memory fit the budget."""
        batch, working = self.batch_size, self._bytes_per_row() + output.working_per_amplitude * 2**self.n_qubits
        check_fits(working, f"{self.n_qubits} qubits (one row's working memory, about "
                   f"{working / 2**self.n_qubits / self._element_size():.0f} copies of a {self.dtype} state)",
                   self.device, "use fewer qubits")
        per_row = output.bytes_per_row(self.n_qubits)
        check_fits(batch * per_row + working, f"{self.n_qubits} qubits x B = {batch} ({output.name}, and one row's "
                   "working memory)", self.device, f"{output.advice} ({self._rows_that_fit(per_row, working)})")
        return min(batch, rows_per_chunk(working, self.device, batch * per_row))

    def _rows_that_fit(self, output_per_row: int, working: int) -> str:
        rows = (memory_budget(self.device) - working) // max(1, output_per_row)
        return f"at most {rows} row(s) fit" if rows > 0 else "not even one row fits"

    def _materialize(self, per_row: bool, matrices: GateMatrices) -> dict[int, Step]:
        """The shared or the per-row steps with their numbers, keyed by position in the program."""
        positions = [i for i, spec in enumerate(self.program.steps) if _is_per_row(spec) == per_row]
        steps: dict[int, Step] = {}
        layer_positions = [i for i in positions if isinstance(self.program.steps[i], LayerSpec)]
        if layer_positions:
            specs = [self.program.steps[i] for i in layer_positions]
            fused = fuse_runs([run for spec in specs for run in spec.runs], matrices)
            if layer_positions[0] == 0:
                steps[0] = ProductState(specs[0].wires, fused[..., : len(specs[0].runs), :, 0])
                fused, specs, layer_positions = fused[..., len(specs[0].runs):, :, :], specs[1:], layer_positions[1:]
            if specs:
                steps.update(zip(layer_positions, build_layers(specs, fused, self.n_qubits)))
        for position in positions:
            spec = self.program.steps[position]
            if isinstance(spec, GateStepSpec):
                steps[position] = Gate(spec.wires, matrices.matrix(spec.op_index))
            elif isinstance(spec, MonomialSpec):
                steps[position] = self._monomial(spec)
        return steps

    def _monomial(self, spec: MonomialSpec) -> Monomial:
        phase = None if spec.phase is None else torch.as_tensor(spec.phase, dtype=self.dtype, device=self.device)
        return Monomial(spec.wires, torch.as_tensor(spec.source, device=self.device), phase)

    def _shared_plan(self, shared: dict[int, Step]) -> list[Step | int]:
        """Shared steps in program order (runs merged to dense operators where cheaper); ints stand for per-row steps."""
        plan: list[Step | int] = []
        segment: list[Step] = []
        for position in range(len(self.program.steps)):
            if position in shared and not isinstance(shared[position], ProductState):
                segment.append(shared[position])
                continue
            plan.extend(self._merge(segment))
            segment = []
            plan.append(shared.get(position, position))
        plan.extend(self._merge(segment))
        return plan

    def _merge(self, segment: list[Step]) -> list[Step]:
        dim = 2**self.n_qubits
        work = sum(len(s.blocks) if isinstance(s, Layer) else 3 if isinstance(s, Gate) else 1 for s in segment)
        rows = self.chunk_rows
        if self.n_qubits > DENSE_MAX_QUBITS or len(segment) < 2 or (rows - dim) * work <= GEMM_ELEMENT_COST * rows * dim:
            return segment
        operator = torch.eye(dim, dtype=self.dtype, device=self.device)
        for step in segment:
            operator = apply_step(step, operator, self.n_qubits)
        return [Dense(operator)]

    def state(self, rows: slice = slice(None)) -> torch.Tensor:
        """Row states ``[rows, 2**n]`` for the batch rows ``rows``."""
        batch, tensors = _slice_batch(self.batch, self.tensors, rows)
        per_row: dict[int, Step] = {}
        if self.program.row_ops:
            row_ops = tuple(sorted(self.program.row_ops))
            matrices = build_gate_matrices(self.program, batch, tensors, batch.batch_size, self.real, self.device, row_ops)
            matrices.location.update(self._shared_matrices.location)
            per_row = self._materialize(per_row=True, matrices=matrices)
        steps = [per_row[s] if isinstance(s, int) else s for s in self._plan]
        if steps and isinstance(steps[0], ProductState):
            state, steps = product_state(steps[0], batch.batch_size, self.n_qubits), steps[1:]
        else:
            state = torch.zeros(batch.batch_size, 2**self.n_qubits, dtype=self.dtype, device=self.device)
            state[:, 0] = 1
        for step in steps:
            state = apply_step(step, state, self.n_qubits)
        return state

    def chunks(self) -> list[slice]:
        """The row slices the batch runs in, each within the memory budget."""
        return [slice(start, start + self.chunk_rows) for start in range(0, self.batch_size, self.chunk_rows)]

    def map_rows(self, readout: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
        """``readout(state)`` for every chunk of rows, concatenated; chunks are checkpointed under autograd."""
        chunks = self.chunks()
        with self.allocation_failures_as_errors():
            if len(chunks) == 1:
                return readout(self.state(chunks[0]))
            if torch.is_grad_enabled():
                return torch.cat([checkpoint(lambda c=c: readout(self.state(c)), use_reentrant=False) for c in chunks])
            return torch.cat([readout(self.state(c)) for c in chunks])

    def allocation_failures_as_errors(self) -> AbstractContextManager[None]:
        """A block in which an allocator's failure becomes a ``BackendError`` naming this run."""
        return allocation_failures_as_errors(f"{self.n_qubits} qubits x B = {self.batch_size}")


def prepare(circuit: Circuit, params: Mapping[str, ParamValue] | None = None, *, dtype: torch.dtype = torch.complex64,
            device: Any = None, output: RowOutput | None = None) -> Simulation:
    """Bind and compile ``circuit`` for a batch; shared matrices (and dense segments) are built here, once.

    ``output`` says what the caller will keep per row (the states themselves if not given): the sizes are
    checked against the memory budget here, before anything large is allocated.
    """
    return Simulation(circuit, params, dtype, device, output)


def simulate(circuit: Circuit, params: Mapping[str, ParamValue] | None = None, *, dtype: torch.dtype = torch.complex64,
             device: Any = None) -> torch.Tensor:
    """The final states ``[B, 2**n]`` of the batch (qubit 0 the least significant bit)."""
    states = RowOutput("states", per_amplitude=2 * real_dtype(dtype).itemsize)
    return prepare(circuit, params, dtype=dtype, device=device, output=states).map_rows(lambda state: state)
