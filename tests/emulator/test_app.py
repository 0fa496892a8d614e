"""The emulator's API over raw HTTP: jobs, results in the URL form, listing, cancel, delete, limits."""

import time

import httpx
import pytest

from qvec.emulator import EmulatorConfig, EmulatorError, Faults
from qvec.errors import InputError

from .conftest import KEY, OTHER_KEY, TIMEOUT, client

BELL = [{"gate": "h", "targets": [0]}, {"gate": "x", "controls": [0], "targets": [1]}]


def get(url, **options):
    """``httpx.get`` with a timeout that only guards against a hang."""
    return httpx.get(url, timeout=TIMEOUT, **options)


def job_body(circuit=BELL, qubits=2, **extra):
    return {"type": "ionq.circuit.v1", "backend": "simulator", "shots": 100,
            "input": {"gateset": "qis", "qubits": qubits, "circuit": circuit}, **extra}


def wait_done(api, job_id, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while (job := api.get(f"jobs/{job_id}").json())["status"] not in ("completed", "failed", "canceled"):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return job


def test_a_circuit_job_completes_with_exact_probabilities_at_a_v04_url(api):
    created = api.post("jobs", json=job_body(metadata={"a": "b"}, name="bell"))
    assert created.status_code == 201 and created.json()["status"] == "submitted"
    job = wait_done(api, created.json()["id"])
    assert job["metadata"] == {"a": "b"} and job["stats"] == {"qubits": 2, "circuits": 1} and job["name"] == "bell"
    url = job["results"]["probabilities"]["url"]
    assert url == f"/v0.4/jobs/{job['id']}/results/probabilities"
    assert get(api.emulator.url + url, headers=api.headers).json() == pytest.approx({"0": 0.5, "3": 0.5})


def test_a_multi_circuit_job_aggregates_children_in_submission_order(api):
    circuits = [{"name": "x1", "circuit": [{"gate": "x", "target": 1}]}, {"circuit": BELL},
                {"circuit": [{"gate": "x", "targets": [0]}, {"gate": "cnot", "control": 0, "target": 2}]}]
    body = {"type": "ionq.multi-circuit.v1", "backend": "simulator", "shots": "100",
            "input": {"gateset": "qis", "qubits": 3, "circuits": circuits}}
    job = wait_done(api, api.post("jobs", json=body).json()["id"])
    assert job["results"]["probabilities"]["url"].endswith(f"/jobs/{job['id']}/results/probabilities/aggregated")
    aggregated = api.get(f"jobs/{job['id']}/results/probabilities/aggregated").json()
    assert list(aggregated) == job["child_job_ids"]
    assert list(aggregated.values()) == [{"2": 1.0}, pytest.approx({"0": 0.5, "3": 0.5}), {"5": 1.0}]
    child = api.get(f"jobs/{job['child_job_ids'][2]}").json()
    assert child["parent_job_id"] == job["id"] and child["status"] == "completed"
    assert api.get(f"jobs/{child['id']}/results/probabilities").json() == {"5": 1.0}


def test_a_qpu_target_estimates_probabilities_from_the_shots(api):
    job = wait_done(api, api.post("jobs", json=job_body(backend="qpu.aria-1")).json()["id"])
    probabilities = api.get(job["results"]["probabilities"]["url"].removeprefix("/v0.4/")).json()
    assert set(probabilities) <= {"0", "3"} and all((100 * p) == int(round(100 * p)) for p in probabilities.values())


def test_listing_is_newest_first_per_key_with_filters_and_pages(api):
    ids = [api.post("jobs", json=job_body()).json()["id"] for _ in range(3)]
    listed = api.get("jobs", params={"limit": 2}).json()
    assert [j["id"] for j in listed["jobs"]] == ids[::-1][:2] and listed["next"]
    rest = api.get("jobs", params={"limit": 2, "next": listed["next"]}).json()
    assert [j["id"] for j in rest["jobs"]] == [ids[0]] and rest["next"] is None
    assert [j["id"] for j in api.get("jobs", params={"ids": ",".join(ids[:2])}).json()["jobs"]] == ids[:2][::-1]
    other = get(api.emulator.base_url + "/jobs", headers={"Authorization": f"apiKey {OTHER_KEY}"}).json()
    assert other["jobs"] == []
    assert api.get("jobs", params={"parent_job_id": "none-such"}).json()["jobs"] == []


def test_cancel_and_delete(start_emulator):
    emulator = start_emulator(faults=Faults(stuck_rate=1.0))
    with client(emulator) as api:
        first, second = (api.post("jobs", json=job_body()).json()["id"] for _ in range(2))
        assert api.put(f"jobs/{first}/status/cancel").json() == {"id": first, "status": "canceled"}
        assert api.get(f"jobs/{first}").json()["status"] == "canceled"
        assert api.delete(f"jobs/{second}").json() == {"id": second, "status": "deleted"}
        assert api.get(f"jobs/{second}").status_code == 404
        assert emulator.counters()["canceled_job_ids"] == [first, second]


def test_keys_are_checked_and_never_echoed(api):
    answer = get(api.emulator.base_url + "/jobs", headers={"Authorization": "apiKey not-a-key-123"})
    assert answer.status_code == 401 and "not-a-key-123" not in answer.text
    assert answer.json()["statusCode"] == 401
    assert get(api.emulator.base_url + "/backends/simulator").json()["qubits"] == 29


@pytest.mark.parametrize("body, message", [
    (job_body(qubits=23), "needs 23 qubits"),
    (job_body(circuit=[{"gate": "warp", "targets": [0]}]), "circuit 0: gate 0"),
    (job_body(shots=0), "shots: Input should be greater than or equal to 1"),
    (job_body(backend="qpu.nowhere"), "backend: Input should be 'simulator'"),
    (job_body(metadata={f"k{i}": "v" for i in range(11)}), "metadata: Dictionary should have at most 10 items"),
    (job_body(backend=["simulator"]), "backend: Input should be 'simulator'"),
    (job_body(name=["bell"]), "name: Input should be a valid string"),
    (job_body(noise={"model": "aria-1", "seed": "7"}), "noise.seed: Input should be a valid integer"),
])
def test_bad_jobs_are_answered_400(api, body, message):
    answer = api.post("jobs", json=body)
    assert answer.status_code == 400 and message in answer.json()["message"]


def test_limits_on_circuits_and_body_size(api):
    many = {"type": "ionq.multi-circuit.v1", "input": {"qubits": 1, "circuits": [{"circuit": []}] * 5001}}
    assert "input.circuits: List should have at most 5000 items" in api.post("jobs", json=many).json()["message"]
    huge = api.post("jobs", content=b" " * 10_000_001)
    assert huge.status_code == 413


def test_admin_counters_are_off_unless_asked(start_emulator):
    emulator = start_emulator(admin=False)
    assert get(emulator.url + "/admin/counters").status_code == 404


def test_counters_say_when_admin_is_off(start_emulator):
    with pytest.raises(EmulatorError, match="admin counters are off"):
        start_emulator(admin=False).counters()


def test_a_defect_is_answered_500_in_the_apis_shape(api):
    def broken(owner):
        raise KeyError("sequence")

    api.emulator.store.listing = broken
    answer = api.get("jobs")
    assert answer.status_code == 500 and answer.json() == {
        "statusCode": 500, "error": "Internal Server Error", "message": "internal error: KeyError: 'sequence'"}


def test_unknown_paths_are_answered_404_in_the_apis_shape(api):
    for url in (api.emulator.base_url + "/no/such/path", api.emulator.url + "/nothing"):
        answer = get(url, headers=api.headers)
        assert answer.status_code == 404 and answer.json()["statusCode"] == 404
    assert api.post("jobs/some-id").json() == {"statusCode": 405, "error": "Method Not Allowed",
                                               "message": "Method Not Allowed"}


def test_admin_counters_need_a_valid_key(start_emulator):
    emulator = start_emulator(admin=True)
    for headers in ({}, {"Authorization": "apiKey not-a-key-123"}):
        answer = get(emulator.url + "/admin/counters", headers=headers)
        assert answer.status_code == 401 and "not-a-key-123" not in answer.text
    answer = get(emulator.url + "/admin/counters", headers={"Authorization": f"apiKey {OTHER_KEY}"})
    assert answer.status_code == 200 and answer.json()["jobs_created"] == 0


def test_injected_errors_and_drops_are_counted(start_emulator):
    emulator = start_emulator(faults=Faults(error_rate=1.0))
    answer = get(emulator.base_url + "/jobs", headers={"Authorization": f"apiKey {KEY}"})
    assert answer.status_code in (502, 503, 504, *range(520, 530))
    dropped = start_emulator(faults=Faults(drop_rate=1.0))
    with pytest.raises(httpx.RemoteProtocolError):
        get(dropped.base_url + "/jobs", headers={"Authorization": f"apiKey {KEY}"})
    assert dropped.counters()["requests_per_status"] == {"dropped": 1}


def test_rate_limit_is_per_key_and_answers_429_with_whole_seconds_to_wait(start_emulator):
    emulator = start_emulator(rate_limit=0.01)  # one request per 100 s after a burst of one
    first, second = ({"Authorization": f"apiKey {key}"} for key in (KEY, OTHER_KEY))
    assert get(emulator.base_url + "/jobs", headers=first).status_code == 200
    limited = get(emulator.base_url + "/jobs", headers=first)
    assert limited.status_code == 429 and limited.json()["statusCode"] == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 100  # whole seconds, until the next token
    assert get(emulator.base_url + "/jobs", headers=second).status_code == 200
    assert emulator.counters()["requests_per_status"] == {"200": 2, "429": 1}


def test_a_rate_limit_must_be_positive():
    with pytest.raises(InputError, match="rate_limit"):
        EmulatorConfig(api_keys=(KEY,), rate_limit=0.0)


def test_capacity_bounds_jobs_running_at_once(start_emulator):
    emulator = start_emulator(latency=3600.0, capacity=2)
    with client(emulator) as api:
        ids = [api.post("jobs", json=job_body()).json()["id"] for _ in range(4)]
        deadline = time.monotonic() + TIMEOUT
        while (statuses := [api.get(f"jobs/{i}").json()["status"] for i in ids]).count("started") < 2:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert sorted(statuses) == ["ready", "ready", "started", "started"]
        for job_id in ids:
            api.put(f"jobs/{job_id}/status/cancel")


def test_listing_by_ids_answers_exactly_those_jobs_beyond_the_default_page(api):
    ids = [api.post("jobs", json=job_body()).json()["id"] for _ in range(30)]
    multi = {"type": "ionq.multi-circuit.v1", "input": {"qubits": 2, "circuits": [{"circuit": BELL}] * 2}}
    parent = api.post("jobs", json=multi).json()["id"]
    child = wait_done(api, parent)["child_job_ids"][1]
    wanted = set(ids[1:29]) | {child}
    listed = api.get("jobs", params={"ids": ",".join(sorted(wanted) + ["no-such-job"])}).json()
    assert {j["id"] for j in listed["jobs"]} == wanted and listed["next"] is None
    repeated = api.get("jobs", params=[("ids", ids[0]), ("ids", ids[5])]).json()
    assert {j["id"] for j in repeated["jobs"]} == {ids[0], ids[5]}
    limited = api.get("jobs", params={"ids": ",".join(ids), "limit": 10}).json()
    assert len(limited["jobs"]) == 10 and limited["next"]


@pytest.fixture
def cancel_mix(start_emulator):
    """8 Bell jobs on an emulator where some complete and the others never finish (seeded faults)."""
    emulator = start_emulator(faults=Faults(stuck_rate=0.5, seed=3))
    with client(emulator) as api:
        ids = [api.post("jobs", json=job_body()).json()["id"] for _ in range(8)]
        deadline = time.monotonic() + TIMEOUT
        while not any(api.get(f"jobs/{i}").json()["status"] == "completed" for i in ids):
            assert time.monotonic() < deadline, "no job completed"
            time.sleep(0.01)
        yield emulator, api, ids


def _assert_real_statuses(api, results):
    """Each answered status is the job's status; completed jobs keep their results, canceled ones have none."""
    for result in results:
        assert api.get(f"jobs/{result['id']}").json()["status"] == result["status"]
        answer = api.get(f"jobs/{result['id']}/results/probabilities")
        if result["status"] == "completed":
            assert answer.json() == pytest.approx({"0": 0.5, "3": 0.5})
        else:
            assert result["status"] == "canceled" and answer.status_code == 400


def test_bulk_cancel_answers_each_jobs_real_status_and_keeps_completed_results(cancel_mix):
    emulator, api, ids = cancel_mix
    answer = api.put("jobs/status/cancel", json={"ids": ids}).json()
    assert [r["id"] for r in answer["results"]] == ids
    statuses = {r["id"]: r["status"] for r in answer["results"]}
    assert set(statuses.values()) == {"completed", "canceled"}
    assert answer["ids"] == [i for i in ids if statuses[i] == "canceled"] and answer["status"] == "canceled"
    assert emulator.counters()["canceled_job_ids"] == answer["ids"]
    _assert_real_statuses(api, answer["results"])
    again = api.put("jobs/status/cancel", json={"ids": ids}).json()
    assert again == answer and emulator.counters()["canceled_job_ids"] == answer["ids"]


def test_single_cancel_answers_the_real_status(cancel_mix):
    emulator, api, ids = cancel_mix
    results = [api.put(f"jobs/{i}/status/cancel").json() for i in ids]
    assert {r["status"] for r in results} == {"completed", "canceled"}
    _assert_real_statuses(api, results)


def test_bulk_cancel_with_an_unknown_id_touches_nothing(start_emulator):
    emulator = start_emulator(faults=Faults(stuck_rate=1.0))
    with client(emulator) as api:
        job_id = api.post("jobs", json=job_body()).json()["id"]
        answer = api.put("jobs/status/cancel", json={"ids": [job_id, "no-such-job"]})
        assert answer.status_code == 404 and "no-such-job" in answer.json()["message"]
        assert api.get(f"jobs/{job_id}").json()["status"] != "canceled"
        assert api.put("jobs/status/cancel", json={"ids": "x"}).status_code == 400


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": -1}, {"limit": "ten"}, {"limit": 1001}, {"next": "abc"},
                                    {"next": ""}, {"next": "999999"}, {"next": "-3"},
                                    {"limit": "1_0"}, {"limit": " 5"}])
def test_bad_listing_parameters_are_answered_400(api, params):
    api.post("jobs", json=job_body())
    answer = api.get("jobs", params=params)
    name = next(iter(params))
    assert answer.status_code == 400 and answer.json()["statusCode"] == 400 and name in answer.json()["message"]
