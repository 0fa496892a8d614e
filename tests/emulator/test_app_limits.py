"""The emulator's defences: bodies refused as they stream, work off the event loop, a memory budget,
sparse results evicted by age or count, and results written as they stream."""

import json
import socket
import threading
import time

import httpx
import pytest

from qvec.emulator import app as app_module
from qvec.emulator import engine as engine_module
from qvec.emulator.requests import MAX_BODY_BYTES

from .conftest import KEY, TIMEOUT, client
from .test_app import BELL, job_body, wait_done

UNIFORM_12 = [{"gate": "h", "targets": [q]} for q in range(12)]


def raw_post(emulator, headers: bytes, body: bytes) -> bytes:
    """Send a POST's head and part of its body over a socket; the status line the server answers."""
    head = (b"POST /v0.4/jobs HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b"Authorization: apiKey " + KEY.encode() + b"\r\n" + headers + b"\r\n")
    with socket.create_connection((emulator.host, emulator.port), timeout=TIMEOUT) as sock:
        sock.sendall(head)
        try:
            sock.sendall(body)
        except OSError:  # the server answered and closed before taking it all: what is tested
            pass
        answer = b""
        while b"\r\n" not in answer:
            piece = sock.recv(4096)
            if not piece:
                break
            answer += piece
    return answer.split(b"\r\n", 1)[0]


def test_a_declared_200_mb_body_is_refused_before_it_is_sent(api):
    status = raw_post(api.emulator, b"Content-Length: 200000000\r\n", b"{" * 2**20)  # 1 MB of the 200 sent
    assert status.split()[1] == b"413"


def test_a_chunked_body_is_refused_once_it_passes_the_limit(api):
    chunk = b"%x\r\n" % 2**20 + b" " * 2**20 + b"\r\n"
    chunks = chunk * (MAX_BODY_BYTES // 2**20 + 1)  # just over the limit; the body never ends
    assert raw_post(api.emulator, b"Transfer-Encoding: chunked\r\n", chunks).split()[1] == b"413"


def test_a_body_at_the_limit_is_read(api):
    body = json.dumps(job_body()).encode()
    padded = body + b" " * (MAX_BODY_BYTES - len(body))
    assert api.post("jobs", content=padded).status_code == 201


def _blocking(real, entered: threading.Event, release: threading.Event):
    def blocked(*args, **kwargs):
        entered.set()
        assert release.wait(TIMEOUT), "never released"
        return real(*args, **kwargs)
    return blocked


def test_other_clients_are_answered_while_a_body_is_checked(api, monkeypatch):
    entered, release = threading.Event(), threading.Event()
    monkeypatch.setattr(app_module, "parse_job_request", _blocking(app_module.parse_job_request, entered, release))
    answers = []
    poster = threading.Thread(target=lambda: answers.append(api.post("jobs", json=job_body())))
    poster.start()
    try:
        assert entered.wait(TIMEOUT)
        with client(api.emulator) as other:  # answered while the POST's check is held in its worker thread
            assert other.get("jobs").status_code == 200
    finally:
        release.set()
        poster.join(TIMEOUT)
    assert answers[0].status_code == 201


def test_other_clients_are_answered_while_a_job_simulates(api, monkeypatch):
    entered, release = threading.Event(), threading.Event()
    monkeypatch.setattr(engine_module, "distributions", _blocking(engine_module.distributions, entered, release))
    job_id = api.post("jobs", json=job_body()).json()["id"]
    try:
        assert entered.wait(TIMEOUT)
        with client(api.emulator) as other:
            assert other.get(f"jobs/{job_id}").json()["status"] == "started"
    finally:
        release.set()
    assert wait_done(api, job_id)["status"] == "completed"


# An exact one-circuit job of n qubits may take 112 * 2**n bytes: one row being simulated (96 bytes per
# amplitude) and its result with every state kept (16 bytes per entry).
def test_a_job_larger_than_the_memory_budget_is_refused_before_it_runs(start_emulator):
    emulator = start_emulator(memory_budget=112 * 2**12 - 1, max_qubits=16)
    with client(emulator) as api:
        answer = api.post("jobs", json=job_body(UNIFORM_12, qubits=12))
        assert answer.status_code == 400 and "memory budget" in answer.json()["message"]
        assert "1 circuit(s) of 12 qubits" in answer.json()["message"]
        assert api.post("jobs", json=job_body(UNIFORM_12[:11], qubits=11)).status_code == 201
        assert emulator.counters()["jobs_created"] == 1


def test_sampled_results_are_budgeted_by_their_shots(start_emulator):
    emulator = start_emulator(memory_budget=112 * 2**12 - 1, max_qubits=16)
    with client(emulator) as api:  # 12 qubits, 100 shots: 96 * 2**12 + 16 * 100 bytes
        assert api.post("jobs", json=job_body(UNIFORM_12, qubits=12, backend="qpu.aria-1")).status_code == 201


def test_work_that_does_not_fit_now_is_answered_503_until_memory_is_released(start_emulator):
    from qvec.emulator import Faults
    emulator = start_emulator(memory_budget=112 * 2**12 + 111, max_qubits=16, faults=Faults(stuck_rate=1.0))
    with client(emulator) as api:
        first = api.post("jobs", json=job_body(UNIFORM_12, qubits=12)).json()["id"]
        busy = api.post("jobs", json=job_body())
        assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
        assert "busy" in busy.json()["message"]
        api.put(f"jobs/{first}/status/cancel")
        assert api.post("jobs", json=job_body()).status_code == 201
        assert emulator.counters()["jobs_created"] == 2


def test_a_job_canceled_while_it_simulates_keeps_its_memory_until_its_thread_ends(api, monkeypatch):
    entered, release = threading.Event(), threading.Event()
    monkeypatch.setattr(engine_module, "distributions", _blocking(engine_module.distributions, entered, release))
    job_id = api.post("jobs", json=job_body()).json()["id"]
    store = api.emulator.store
    try:
        assert entered.wait(TIMEOUT)
        reserved = store.reserved_bytes
        assert api.put(f"jobs/{job_id}/status/cancel").json()["status"] == "canceled"
        api.get("jobs")  # a request after the cancel: the task's cancellation has run by its answer
        assert store.reserved_bytes == reserved > 0
    finally:
        release.set()
    deadline = time.monotonic() + TIMEOUT
    while store.reserved_bytes:  # the thread stops at its next chunk, then the reservation ends
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert api.get(f"jobs/{job_id}").json()["status"] == "canceled" and store.results_bytes == 0


def test_results_are_stored_sparse(api):
    bell = wait_done(api, api.post("jobs", json=job_body(BELL + [{"gate": "h", "targets": [11]}], qubits=12)).json()["id"])
    assert api.emulator.store.results_bytes == 4 * 16  # four states kept of 4,096, 16 bytes each
    uniform = wait_done(api, api.post("jobs", json=job_body(UNIFORM_12, qubits=12)).json()["id"])
    assert api.emulator.store.results_bytes == 4 * 16 + 4096 * 16
    assert api.get(f"jobs/{bell['id']}/results/probabilities").json() == pytest.approx(
        {"0": 0.25, "3": 0.25, "2048": 0.25, "2051": 0.25})
    answer = api.get(f"jobs/{uniform['id']}/results/probabilities")
    assert answer.json() == pytest.approx({str(i): 1 / 4096 for i in range(4096)})


def test_finished_results_beyond_the_count_are_evicted_oldest_first(start_emulator):
    emulator = start_emulator(results_kept=2)
    with client(emulator) as api:
        ids = [wait_done(api, api.post("jobs", json=job_body()).json()["id"])["id"] for _ in range(3)]
        gone = api.get(f"jobs/{ids[0]}/results/probabilities")
        assert gone.status_code == 410 and "evicted" in gone.json()["message"]
        for job_id in ids[1:]:
            assert api.get(f"jobs/{job_id}/results/probabilities").json() == pytest.approx({"0": 0.5, "3": 0.5})
        assert api.get(f"jobs/{ids[0]}").json()["status"] == "completed"
        assert emulator.store.results_bytes == 2 * 2 * 16


def test_finished_results_past_their_time_are_evicted(start_emulator):
    emulator = start_emulator(results_ttl=0.0)
    with client(emulator) as api:
        multi = {"type": "ionq.multi-circuit.v1", "input": {"qubits": 2, "circuits": [{"circuit": BELL}] * 2}}
        job = wait_done(api, api.post("jobs", json=multi).json()["id"])
        assert api.get(f"jobs/{job['id']}/results/probabilities/aggregated").status_code == 410
        assert api.get(f"jobs/{job['child_job_ids'][0]}/results/probabilities").status_code == 410
        assert emulator.store.results_bytes == 0


def test_eviction_settings_are_checked():
    from qvec.emulator import EmulatorConfig
    from qvec.errors import InputError
    for options in ({"results_ttl": -1.0}, {"results_kept": -1}, {"memory_budget": 0}, {"results_kept": 1.5}):
        with pytest.raises(InputError, match=next(iter(options))):
            EmulatorConfig(api_keys=(KEY,), **options)


def test_the_bulk_endpoints_refuse_huge_and_deep_bodies(api):
    assert api.put("jobs/status/cancel", content=b"[" * 100_000).status_code == 400
    assert api.request("DELETE", "jobs", content=b" " * (MAX_BODY_BYTES + 1)).status_code == 413


def test_a_listing_limit_of_null_is_answered_400(api):
    answer = api.get("jobs", params={"limit": "null"})
    assert answer.status_code == 400 and "limit" in answer.json()["message"]


def test_the_api_key_header_is_needed_for_the_schema_paths_but_not_the_schema(api):
    schema = httpx.get(api.emulator.base_url + "/openapi.json", timeout=TIMEOUT)
    assert schema.status_code == 200 and "JobBody" in schema.json()["components"]["schemas"]
