"""Compiling bound circuits into IonQ job bodies (single- and multi-circuit)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from qvec.circuit import Circuit
from qvec.circuit.ionq_json import ionq_gates
from qvec.errors import CircuitTooLargeError, format_indices

__all__ = ["JobOptions", "circuit_entry", "job_body", "check_width"]


@dataclass(frozen=True)
class JobOptions:
    """What every job of a batch carries besides its circuits."""

    target: str = "simulator"
    shots: int | None = None
    noise: Mapping[str, Any] | None = None
    name: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


def circuit_entry(circuit: Circuit, index: int) -> dict[str, Any]:
    """One circuit as a multi-circuit job lists it, named by its input index."""
    return {"name": str(index), "circuit": ionq_gates(circuit)}


def job_body(entries: Sequence[dict[str, Any]], widths: Sequence[int], options: JobOptions) -> dict[str, Any]:
    """The POST /jobs body for some circuit entries (one circuit: a plain circuit job)."""
    qubits = max(widths)
    if len(entries) == 1:
        job_input: dict[str, Any] = {"gateset": "qis", "qubits": qubits, "circuit": entries[0]["circuit"]}
        body: dict[str, Any] = {"type": "ionq.circuit.v1"}
    else:
        job_input = {"gateset": "qis", "qubits": qubits, "circuits": list(entries)}
        body = {"type": "ionq.multi-circuit.v1"}
    body.update(backend=options.target, input=job_input, metadata=dict(options.metadata))
    if options.shots is not None:
        body["shots"] = options.shots
    if options.noise is not None:
        body["noise"] = dict(options.noise)
    if options.name is not None:
        body["name"] = options.name
    return body


def check_width(circuits: Sequence[Circuit], target: str, qubits: int) -> None:
    """Raise ``CircuitTooLargeError`` naming the circuits wider than the target's ``qubits``."""
    wide = [i for i, c in enumerate(circuits) if c.n_qubits > qubits]
    if wide:
        widest = max(circuits[i].n_qubits for i in wide)
        raise CircuitTooLargeError(f"circuit(s) {format_indices(wide)} need up to {widest} qubits, but target "
                                   f"{target!r} has {qubits}; nothing was sent")
