"""Validating a ``POST /jobs`` body into a job request, with the API's limits and error messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from qvec.circuit import Circuit
from qvec.circuit.ionq_json import circuit_from_ionq
from qvec.errors import InputError

from .schema import MAX_GATES, MULTI, SINGLE, TARGET_QUBITS, validate_job_body

__all__ = ["JobRequest", "parse_job_request", "TARGET_QUBITS", "MAX_GATES", "MAX_BODY_BYTES", "MULTI", "SINGLE"]

MAX_BODY_BYTES = 10_000_000


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

    @property
    def is_exact(self) -> bool:
        """The ideal simulator returns exact probabilities; a QPU or a noise model estimates them from shots."""
        return self.target == "simulator" and (self.noise or {}).get("model", "ideal") == "ideal"


def _metadata(value: Mapping[str, Any] | None) -> dict[str, str]:
    """Metadata returned verbatim as strings (some clients send numbers or booleans)."""
    return {k: v if isinstance(v, str) else str(v) for k, v in (value or {}).items()}


def _noise(value: Mapping[str, Any] | None, target: str) -> dict[str, Any] | None:
    if value is not None and target != "simulator":
        raise InputError("noise models are for the simulator only")
    return None if value is None else dict(value)


def _circuit_list(job_input: Mapping[str, Any], kind: str) -> tuple[list[Any], list[str | None]]:
    if kind == MULTI:
        entries = job_input.get("circuits")
        if not entries:
            raise InputError("a multi-circuit job needs input.circuits: a non-empty list of {name?, circuit}")
        return [e["circuit"] for e in entries], [e.get("name") for e in entries]
    if "circuit" not in job_input:
        raise InputError("a one-circuit job needs input.circuit: a list of gates")
    return [job_input["circuit"]], [None]


def _qubits(job_input: Mapping[str, Any], target: str, max_qubits: int) -> int:
    qubits = job_input["qubits"]
    limit = min(TARGET_QUBITS[target], max_qubits)
    if qubits > limit:
        raise InputError(f"the job needs {qubits} qubits; {target} on this emulator has {limit}")
    return qubits


def parse_job_request(raw: bytes | str | Any, max_qubits: int) -> JobRequest:
    """A ``JobRequest`` from a body (JSON text or decoded); ``InputError`` (a 400) says what is wrong."""
    body = validate_job_body(raw)
    job_input = body["input"]
    kind = body.get("type") or (MULTI if "circuits" in job_input else SINGLE)
    target = body.get("backend") or body.get("target") or "simulator"
    gate_lists, names = _circuit_list(job_input, kind)
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
    return JobRequest(kind, target, int(body.get("shots", 100)), qubits, circuits, names,
                      body.get("name"), _metadata(body.get("metadata")), _noise(body.get("noise"), target))
