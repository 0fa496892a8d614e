"""Validating a ``POST /jobs`` body into a job request, with the API's limits and error messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from qvec.circuit import Circuit
from qvec.circuit.ionq_json import circuit_from_ionq
from qvec.errors import InputError

__all__ = ["JobRequest", "parse_job_request", "TARGET_QUBITS", "MAX_CIRCUITS", "MAX_GATES", "MAX_BODY_BYTES"]

# The targets the emulator serves and their widths. The server keeps its own table (it never imports
# the client); a test checks that it agrees with the client's ``qvec.backends.ionq.targets``.
TARGET_QUBITS: dict[str, int] = {
    "simulator": 29,
    "qpu.aria-1": 25,
    "qpu.aria-2": 25,
    "qpu.forte-1": 36,
    "qpu.forte-enterprise-1": 36,
}

MAX_CIRCUITS = 5000
MAX_GATES = 150_000
MAX_BODY_BYTES = 10_000_000
MAX_SHOTS = 1_000_000
NOISE_MODELS = ("ideal", "harmony", "aria-1", "aria-2", "forte-1", "forte-enterprise-1")
SINGLE, MULTI = "ionq.circuit.v1", "ionq.multi-circuit.v1"


@dataclass
class JobRequest:
    """A checked job: its circuits (each as wide as the job), shots, target and the rest."""

    type: str
    target: str
    shots: int
    qubits: int
    circuits: list[Circuit]
    names: list[str | None]
    name: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    noise: dict[str, Any] | None = None


def _shots(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SHOTS:
        raise InputError(f"shots must be an integer from 1 to {MAX_SHOTS}, got {value!r}")
    return value


def _metadata(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or len(value) > 10:
        raise InputError("metadata must be an object of at most 10 string keys")
    if any(not isinstance(k, str) or len(k) > 40 for k in value):
        raise InputError("metadata keys must be strings of at most 40 characters")
    return {k: v if isinstance(v, str) else str(v) for k, v in value.items()}


def _noise(value: Any, target: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or value.get("model", "ideal") not in NOISE_MODELS:
        raise InputError(f"noise must be {{'model': one of {', '.join(NOISE_MODELS)}, 'seed': int|null}}")
    if target != "simulator":
        raise InputError("noise models are for the simulator only")
    seed = value.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise InputError(f"noise.seed must be an integer or null, got {seed!r}")
    return dict(value)


def _name(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise InputError(f"name must be a string, got {value!r}")
    return value


def _circuit_list(job_input: Mapping[str, Any], kind: str) -> tuple[list[Any], list[str | None]]:
    if kind == MULTI:
        entries = job_input.get("circuits")
        if not isinstance(entries, list) or not entries or not all(isinstance(e, Mapping) for e in entries):
            raise InputError("a multi-circuit job needs input.circuits: a non-empty list of {name?, circuit}")
        return [e.get("circuit") for e in entries], [e.get("name") for e in entries]
    return [job_input.get("circuit")], [None]


def _qubits(job_input: Mapping[str, Any], target: str, max_qubits: int) -> int:
    qubits = job_input.get("qubits")
    if isinstance(qubits, bool) or not isinstance(qubits, int) or qubits < 1:
        raise InputError(f"input.qubits must be a positive integer, got {qubits!r}")
    limit = min(TARGET_QUBITS[target], max_qubits)
    if qubits > limit:
        raise InputError(f"the job needs {qubits} qubits; {target} on this emulator has {limit}")
    return qubits


def parse_job_request(body: Any, max_qubits: int) -> JobRequest:
    """A ``JobRequest`` from a decoded body; ``InputError`` (a 400) says what is wrong."""
    if not isinstance(body, Mapping):
        raise InputError("the body must be a JSON object")
    job_input = body.get("input")
    if not isinstance(job_input, Mapping):
        raise InputError("input is required: {gateset, qubits, circuit | circuits}")
    kind = body.get("type") or (MULTI if "circuits" in job_input else SINGLE)
    if kind not in (SINGLE, MULTI):
        raise InputError(f"type must be {SINGLE!r} or {MULTI!r}, got {kind!r}")
    target = body.get("backend") or body.get("target") or "simulator"
    if not isinstance(target, str) or target not in TARGET_QUBITS:
        raise InputError(f"unknown backend {target!r}; known: {', '.join(TARGET_QUBITS)}")
    gate_lists, names = _circuit_list(job_input, kind)
    if len(gate_lists) > MAX_CIRCUITS:
        raise InputError(f"a job holds at most {MAX_CIRCUITS} circuits, got {len(gate_lists)}")
    if not all(isinstance(g, list) for g in gate_lists):
        raise InputError("every circuit must be a list of gates")
    if sum(len(g) for g in gate_lists) > MAX_GATES:
        raise InputError(f"a job holds at most {MAX_GATES} gates in total")
    qubits = _qubits(job_input, target, max_qubits)
    gateset = job_input.get("gateset", "qis")
    circuits = []
    for index, gates in enumerate(gate_lists):
        try:
            circuits.append(circuit_from_ionq(gates, qubits, gateset))
        except InputError as exc:
            raise InputError(f"circuit {index}: {exc}") from None
    return JobRequest(kind, target, _shots(body.get("shots", 100)), qubits, circuits, names,
                      _name(body.get("name")), _metadata(body.get("metadata")), _noise(body.get("noise"), target))
