"""Job bodies are checked field by field: any JSON is a job request or one ``InputError`` naming the field."""

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qvec.emulator.requests import parse_job_request
from qvec.emulator.schema import validate_job_body
from qvec.errors import InputError

GOOD = {"type": "ionq.circuit.v1", "backend": "simulator", "shots": 100,
        "input": {"gateset": "qis", "qubits": 2, "circuit": [{"gate": "h", "targets": [0]},
                                                              {"gate": "rx", "targets": [1], "rotation": 0.5}]}}


def with_input(**fields):
    return {**GOOD, "input": {**GOOD["input"], **fields}}


def with_gate(**fields):
    return with_input(circuit=[{"gate": "rx", "targets": [0], "rotation": 0.1, **fields}])


# Each of these answered 500 when the API was fuzzed (a TypeError, OverflowError or RecursionError escaped).
FOUND = [
    ({**GOOD, "backend": ["simulator"]}, "backend: Input should be"),
    ({**GOOD, "backend": {"name": "simulator"}}, "backend: Input should be"),
    (with_input(gateset=["qis"]), "input.gateset: Input should be 'qis' or 'native'"),
    (with_input(gateset={"qis": 1}), "input.gateset: Input should be 'qis' or 'native'"),
    (with_gate(rotation=10**400), "input.circuit.0.rotation: Input should be a finite number"),
    (with_gate(rotation=-(10**400)), "input.circuit.0.rotation: Input should be a finite number"),
    ('{"input": {"qubits": 1, "circuit": [{"gate": "rx", "targets": [0], "rotation": 1e400}]}}',
     "input.circuit.0.rotation: Input should be a finite number"),
    ("[" * 100_000 + "]" * 100_000, "recursion limit exceeded"),
    ('{"settings": ' + '{"a": ' * 50_000 + "1" + "}" * 50_001, "recursion limit exceeded"),
    (with_gate(targets=[10**30]), "input.circuit.0.targets"),
    (with_gate(targets=[0.5]), "input.circuit.0.targets"),
    (with_gate(targets=True), "input.circuit.0.targets"),
    ({**GOOD, "shots": None}, "shots: Input should be a valid integer, got None"),
    ({**GOOD, "metadata": {"key": {"nested": 1}}}, "metadata.key: Input should be a valid"),
    (with_input(qubits=10**40), "input.qubits: Input should be less than or equal to 36"),
    ({**GOOD, "noise": {"model": "ideal", "seed": 2**70}}, "noise.seed: Input should be less than"),
    (with_input(circuit=None), "input.circuit: Input should be a valid array"),
]


@pytest.mark.parametrize("body, message", FOUND)
def test_bodies_that_once_crashed_the_server_are_refused_by_field(body, message):
    raw = body if isinstance(body, str) else json.dumps(body)
    with pytest.raises(InputError) as caught:
        parse_job_request(raw, max_qubits=22)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_refusal_never_repeats_a_huge_value():
    with pytest.raises(InputError) as caught:
        parse_job_request(json.dumps(with_gate(rotation=10**400)), max_qubits=22)
    assert len(str(caught.value)) < 200


def test_a_good_body_becomes_its_circuit():
    request = parse_job_request(json.dumps({**GOOD, "shots": "250", "metadata": {"n": 3}}), max_qubits=22)
    assert request.shots == 250 and request.qubits == 2 and request.metadata == {"n": "3"}
    assert [(op.gate, op.wires, op.angles) for op in request.circuits[0]] == [("h", (0,), ()), ("rx", (1,), (0.5,))]


def test_angles_arrive_as_floats_and_must_be_numbers():
    assert validate_job_body(with_gate(rotation=1))["input"]["circuit"][0]["rotation"] == 1.0
    for bad in ("1", True, math.nan, None):
        with pytest.raises(InputError, match="rotation"):
            validate_job_body(with_gate(rotation=bad))


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=20)
FIELDS = st.sampled_from(["type", "backend", "target", "shots", "name", "metadata", "noise", "settings", "input"])
INPUT_FIELDS = st.sampled_from(["gateset", "qubits", "circuit", "circuits"])
GATE_FIELDS = st.sampled_from(["gate", "target", "targets", "control", "controls", "rotation", "phase", "phases", "angle"])


def _mutated(draw) -> dict:
    """GOOD with one field at each level replaced by random JSON (or left out)."""
    body = json.loads(json.dumps(GOOD))
    for place, names in ((body, FIELDS), (body["input"], INPUT_FIELDS), (body["input"]["circuit"][1], GATE_FIELDS)):
        name = draw(names)
        if draw(st.booleans()):
            place[name] = draw(JSON)
        else:
            place.pop(name, None)
    return body


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_mutated_body_is_a_job_or_an_input_error(data):
    raw = json.dumps(_mutated(data.draw))  # NaN and Infinity included, as json.dumps writes them
    try:
        request = parse_job_request(raw, max_qubits=4)
    except InputError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert request.qubits <= 4 and len(request.circuits) >= 1
