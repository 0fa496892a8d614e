"""The fault layer over raw HTTP: faults per endpoint, seeded per endpoint, truncated answers, corrupted results."""

import json
import time

import pytest

from qvec.emulator import Faults
from qvec.emulator.faults import endpoint_name
from qvec.errors import InputError

from .conftest import TIMEOUT, client

BELL = {"type": "ionq.circuit.v1", "backend": "simulator", "shots": 100,
        "input": {"gateset": "qis", "qubits": 2, "circuit": [{"gate": "h", "targets": [0]},
                                                             {"gate": "cnot", "control": 0, "target": 1}]}}
MULTI = {"type": "ionq.multi-circuit.v1", "backend": "simulator", "shots": 100,
         "input": {"gateset": "qis", "qubits": 2, "circuits": [{"circuit": BELL["input"]["circuit"]},
                                                               {"circuit": [{"gate": "x", "targets": [1]}]}]}}


def completed(api, body):
    """Submit ``body`` on a fault-free endpoint and wait (a guard against a hang only) until it completes."""
    job_id = api.post("jobs", json=body).json()["id"]
    deadline = time.monotonic() + TIMEOUT
    while api.get(f"jobs/{job_id}").json()["status"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return job_id


@pytest.mark.parametrize("method, path, name", [
    ("POST", "/v0.4/jobs", "POST /jobs"), ("GET", "/v0.4/jobs/abc-1", "GET /jobs/{id}"),
    ("PUT", "/v0.4/jobs/status/cancel", "PUT /jobs/status/cancel"),
    ("PUT", "/v0.4/jobs/abc/status/cancel", "PUT /jobs/{id}/status/cancel"),
    ("GET", "/v0.4/jobs/abc/results/probabilities/aggregated", "GET /jobs/{id}/results/probabilities/aggregated"),
    ("GET", "/v0.4/backends/qpu.aria-1", "GET /backends/{name}"),
])
def test_endpoints_are_named_by_method_and_path_template(method, path, name):
    assert endpoint_name(method, path) == name


def test_an_unknown_endpoint_is_refused_by_name():
    with pytest.raises(InputError, match="endpoints"):
        Faults(endpoints=("GET /job",))


def test_faults_hit_only_the_endpoints_named(start_emulator):
    emulator = start_emulator(faults=Faults(error_rate=1.0, error_statuses=(503,), endpoints=("GET /jobs/{id}",)))
    with client(emulator) as api:
        job_id = api.post("jobs", json=BELL).json()["id"]
        assert api.get("jobs").status_code == 200
        assert api.get(f"jobs/{job_id}").status_code == 503


def test_each_endpoint_draws_its_own_seeded_sequence(start_emulator):
    """The statuses of one endpoint's requests are the same whatever other endpoints were asked meanwhile."""
    sequences = []
    for other_requests in (0, 7):
        emulator = start_emulator(faults=Faults(seed=3, error_rate=0.5, error_statuses=(502,)))
        with client(emulator) as api:
            statuses = []
            for _ in range(12):
                for _ in range(other_requests):
                    api.get("backends")
                statuses.append(api.get("jobs").status_code)
        sequences.append(statuses)
    assert sequences[0] == sequences[1] and {200, 502} == set(sequences[0])


def test_a_truncated_answer_is_the_first_half_of_the_real_one(start_emulator):
    emulator = start_emulator(faults=Faults(truncate_rate=1.0, endpoints=("GET /jobs",)))
    with client(emulator) as api:
        answer = api.get("jobs")
        with pytest.raises(ValueError):
            json.loads(answer.content)
        assert answer.status_code == 200 and answer.content.startswith(b'{"jobs"')
    assert emulator.counters()["requests_per_status"] == {"truncated": 1}


@pytest.mark.parametrize("fault, expected", [
    ("missing_result_rate", {"3": 0.5}),  # the most probable state (the first of a tie, "0") is gone
    ("empty_result_rate", {}),
    ("unnormalized_result_rate", {"0": 0.25, "3": 0.25}),
])
def test_a_plain_result_is_corrupted_the_same_way_on_every_fetch(start_emulator, fault, expected):
    emulator = start_emulator(faults=Faults(**{fault: 1.0}))
    with client(emulator) as api:
        job_id = completed(api, BELL)
        answers = [api.get(f"jobs/{job_id}/results/probabilities").json() for _ in range(2)]
    assert answers[0] == answers[1] == pytest.approx(expected)


def test_an_aggregated_result_loses_or_spoils_its_last_circuit(start_emulator):
    for fault, last in (("missing_result_rate", None), ("empty_result_rate", {}),
                        ("unnormalized_result_rate", {"2": 0.5})):
        emulator = start_emulator(faults=Faults(**{fault: 1.0}))
        with client(emulator) as api:
            job_id = completed(api, MULTI)
            children = api.get(f"jobs/{job_id}").json()["child_job_ids"]
            answer = api.get(f"jobs/{job_id}/results/probabilities/aggregated").json()
        assert answer[children[0]] == pytest.approx({"0": 0.5, "3": 0.5})
        assert answer.get(children[1]) == last and len(answer) == (1 if last is None else 2)
