"""The ``POST /jobs`` body as typed dictionaries: validated by pydantic (JSON parsed in Rust, depth and
number ranges checked before any job is built) and published in the emulator's OpenAPI schema.

Any body is either a ``JobBody`` of plain dicts and lists or an ``InputError`` naming the first bad field.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, TypeAdapter, ValidationError
from typing_extensions import Required, TypedDict

from qvec.errors import InputError

__all__ = ["JobBody", "validate_job_body", "job_body_schema", "TARGET_QUBITS", "MAX_CIRCUITS", "MAX_GATES", "MAX_SHOTS",
           "NOISE_MODELS", "SINGLE", "MULTI"]

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
MAX_SHOTS = 1_000_000
NOISE_MODELS = ("ideal", "harmony", "aria-1", "aria-2", "forte-1", "forte-enterprise-1")
SINGLE, MULTI = "ionq.circuit.v1", "ionq.multi-circuit.v1"
_WIDEST = max(TARGET_QUBITS.values())
_IGNORE_EXTRA = ConfigDict(extra="ignore")

Qubit = Annotated[StrictInt, Field(ge=0, lt=_WIDEST)]
Qubits = Union[Qubit, Annotated[list[Qubit], Field(max_length=3)]]
# A JSON number (never a string), finite: 1e400 and 10**400 are refused, not overflowed.
Angle = Annotated[StrictFloat, Field(allow_inf_nan=False, ge=-1e15, le=1e15)]
Scalar = Union[StrictStr, StrictInt, StrictFloat, StrictBool, None]


class Gate(TypedDict, total=False):
    """One gate: ``target(s)``/``control(s)`` name qubits; ``rotation`` (radians), ``phase``/``phases``/``angle`` (turns)."""

    __pydantic_config__ = _IGNORE_EXTRA
    gate: Required[Annotated[StrictStr, Field(max_length=16)]]
    target: Qubit
    targets: Qubits
    control: Qubit
    controls: Qubits
    rotation: Angle
    phase: Angle
    phases: Annotated[list[Angle], Field(min_length=2, max_length=2)]
    angle: Angle


Gates = Annotated[list[Gate], Field(max_length=MAX_GATES)]


class CircuitEntry(TypedDict, total=False):
    """One circuit of a multi-circuit job."""

    __pydantic_config__ = _IGNORE_EXTRA
    name: Annotated[StrictStr, Field(max_length=256)] | None
    circuit: Required[Gates]


class JobInput(TypedDict, total=False):
    """``circuit`` for a one-circuit job, ``circuits`` for a multi-circuit one; every qubit is measured."""

    __pydantic_config__ = _IGNORE_EXTRA
    gateset: Literal["qis", "native"]
    qubits: Required[Annotated[StrictInt, Field(ge=1, le=_WIDEST)]]
    circuit: Gates
    circuits: Annotated[list[CircuitEntry], Field(min_length=1, max_length=MAX_CIRCUITS)]


class Noise(TypedDict, total=False):
    """A noise model of the simulator, sampled with ``seed``."""

    __pydantic_config__ = _IGNORE_EXTRA
    model: Literal[NOISE_MODELS]  # type: ignore[valid-type]
    seed: Annotated[StrictInt, Field(ge=-(2**63), lt=2**63)] | None


Target = Literal[tuple(TARGET_QUBITS)]  # type: ignore[valid-type]
MetadataKey = Annotated[StrictStr, Field(max_length=40)]


class JobBody(TypedDict, total=False):
    """A ``POST /jobs`` body (IonQ API v0.4). ``shots`` may arrive as a string of digits, as some clients send it."""

    __pydantic_config__ = _IGNORE_EXTRA
    type: Literal[SINGLE, MULTI] | None  # type: ignore[valid-type]
    backend: Target | None
    target: Target | None
    shots: Annotated[StrictInt, Field(ge=1, le=MAX_SHOTS)] | Annotated[StrictStr, Field(pattern=r"^[0-9]{1,7}$")]
    name: Annotated[StrictStr, Field(max_length=256)] | None
    metadata: Annotated[dict[MetadataKey, Scalar], Field(max_length=10)] | None
    noise: Noise | None
    settings: dict[str, Any] | None
    input: Required[JobInput]


_UNION_MEMBER = re.compile(r"^(int|str|float|bool|none|typed-dict|constrained-[a-z]+|[a-z-]+\[.*\])$")
_SHOWN = 60  # characters of a bad value repeated in an error message
_ADAPTER: TypeAdapter[JobBody] = TypeAdapter(JobBody)


def _first_error(error: ValidationError) -> str:
    """The first problem of a validation error as one line: ``input.circuit.3.rotation: ..., got 'x'``.

    The names pydantic gives the members of a union (``int``, ``constrained-str``) are left out of the place.
    """
    detail = error.errors(include_url=False)[0]
    place = [str(part) for i, part in enumerate(detail["loc"]) if i == 0 or not _UNION_MEMBER.match(str(part))]
    where = f"{'.'.join(place)}: " if place else ""
    shown = repr(detail["input"])
    if detail["type"] == "json_invalid" or len(shown) > _SHOWN:
        return f"{where}{detail['msg']}"
    return f"{where}{detail['msg']}, got {shown}"


def validate_job_body(raw: bytes | str | Any) -> JobBody:
    """The body as checked plain data; ``InputError`` (a 400) names the first bad field.

    ``raw`` is the JSON text (parsed by pydantic, with its nesting limit) or an already decoded object.
    """
    try:
        if isinstance(raw, (bytes, str)):
            return _ADAPTER.validate_json(raw)
        return _ADAPTER.validate_python(raw)
    except ValidationError as exc:
        raise InputError(_first_error(exc)) from None


def job_body_schema(ref_template: str) -> dict[str, Any]:
    """The JSON schema of a job body, its shared parts under ``$defs`` referenced with ``ref_template``."""
    return _ADAPTER.json_schema(ref_template=ref_template)
