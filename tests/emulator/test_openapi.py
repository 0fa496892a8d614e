"""The emulator publishes a complete OpenAPI description, and no input generated from it gets a 500
(schemathesis, positive and negative cases against a live server)."""

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from qvec.emulator import Emulator, EmulatorConfig
from qvec.emulator.app import create_app
from qvec.emulator.store import JobStore

from .conftest import KEY, TIMEOUT

BUDGET = 8 * 2**20
EXAMPLES = 12  # per operation and mode: ~260 requests, a few seconds of work on a quiet machine
ROUTES = {("POST", "/v0.4/jobs"), ("GET", "/v0.4/jobs"), ("DELETE", "/v0.4/jobs"), ("PUT", "/v0.4/jobs/status/cancel"),
          ("GET", "/v0.4/jobs/{job_id}"), ("DELETE", "/v0.4/jobs/{job_id}"), ("PUT", "/v0.4/jobs/{job_id}/status/cancel"),
          ("GET", "/v0.4/jobs/{job_id}/results/probabilities"),
          ("GET", "/v0.4/jobs/{job_id}/results/probabilities/aggregated"), ("GET", "/v0.4/backends"),
          ("GET", "/v0.4/backends/{name}")}


@pytest.fixture(scope="module")
def emulator():
    running = Emulator(EmulatorConfig(api_keys=(KEY,), max_qubits=4, memory_budget=BUDGET)).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def schema(emulator):
    return schemathesis.openapi.from_url(emulator.base_url + "/openapi.json")


def test_the_schema_is_served_without_a_key_and_describes_every_route(emulator):
    document = httpx.get(emulator.base_url + "/openapi.json", timeout=TIMEOUT).json()
    assert document["openapi"].startswith("3.") and document["info"]["version"] == "0.4"
    routes = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert routes == ROUTES
    create = document["paths"]["/v0.4/jobs"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/JobBody"}
    body = document["components"]["schemas"]["JobBody"]
    assert body["required"] == ["input"] and {"backend", "shots", "metadata", "noise"} <= set(body["properties"])
    gate = document["components"]["schemas"]["Gate"]
    assert gate["required"] == ["gate"] and gate["properties"]["rotation"]["maximum"] == 1e15
    listing = {p["name"] for p in document["paths"]["/v0.4/jobs"]["get"]["parameters"]}
    assert listing == {"ids", "parent_job_id", "status", "target", "limit", "next"}
    assert document["components"]["securitySchemes"]["apiKey"]["name"] == "Authorization"


def _operations() -> list[str]:
    """The operations of the app's schema, built without a server (the tests call a live one)."""
    document = create_app(EmulatorConfig(api_keys=(KEY,)), JobStore()).openapi()
    return [f"{op.ok().method.upper()} {op.ok().path}" for op in schemathesis.openapi.from_dict(document).get_all_operations()]


OPERATIONS = _operations()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@pytest.mark.parametrize("name", OPERATIONS)
def test_no_generated_request_gets_a_server_error(emulator, schema, name, mode):
    method, path = name.split(" ")
    operation = schema[path][method]
    answers = []

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(operation.as_strategy(generation_mode=mode))
    def call(case):
        headers = {**(case.headers or {}), "Authorization": f"apiKey {KEY}"}
        answer = case.call(base_url=emulator.url, headers=headers, timeout=TIMEOUT)
        answers.append(answer.status_code)
        assert answer.status_code < 500, (case.body, answer.text[:300])
        assert emulator.store.bytes_in_use <= BUDGET

    try:
        call()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE  # a plain string path parameter: nothing to violate
        pytest.skip(f"{name} has no input its schema forbids")
    assert answers
