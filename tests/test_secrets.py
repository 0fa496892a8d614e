"""An IonQ API key never shows: not in logs at DEBUG, exception messages and tracebacks, reprs, the output of
``qvec -v``, or any file qvec writes (its journal included); the emulator refuses missing and wrong keys
and keeps each key's jobs invisible to every other key."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import traceback
from pathlib import Path

import httpx
import pytest

import qvec
from qvec.backends import IonQBackend
from qvec.backends.ionq import IonQClient, IonQSettings, PollPolicy, RetryPolicy, Timeouts
from qvec.backends.ionq.runner import JobRunner
from qvec.emulator import Emulator, EmulatorConfig, Faults
from qvec.errors import AuthenticationError, IonQError, RequestError, TransportError

SECRET = "sk-live-5e3f1d9c7a"
OTHER = "sk-other-2b8e4a60"
WRONG = "sk-wrong-9c1f7e33"
FAST_POLL = PollPolicy(initial=0.01, factor=1.5, maximum=0.1)
# Faults that make the client log retries, look keys up and read error answers.
NOISY = Faults(seed=2, error_rate=0.15, lost_answer_rate=0.3, truncate_rate=0.1, rate_limit_rate=0.1,
               retry_after=0.01)
LOGGERS = ("", "qvec", "httpx", "httpcore", "hpack", "asyncio", "uvicorn", "uvicorn.error")
BELL = "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[2];\nh q[0];\ncx q[0],q[1];\n"


@pytest.fixture(scope="module")
def emulator():
    with Emulator(EmulatorConfig(api_keys=(SECRET, OTHER), latency=0.0, admin=True, faults=NOISY)) as running:
        yield running


def backend_on(emulator: Emulator, key: str = SECRET, **options) -> IonQBackend:
    options = {"poll": FAST_POLL, "retry": RetryPolicy(max_attempts=30, backoff=0.01, max_delay=0.05), **options}
    return IonQBackend(api_key=key, base_url=emulator.base_url, env_file=None, **options)


def shown(error: BaseException) -> str:
    """Everything an error can show: its message and its whole traceback with every chained cause."""
    return "".join(traceback.format_exception(error))


def test_debug_logs_never_show_the_key(emulator, caplog):
    for name in LOGGERS:  # every logger at DEBUG, httpcore's too, as if the user asked for them all
        caplog.set_level(logging.DEBUG, logger=name)
    circuits = [qvec.Circuit(2).h(0).cx(0, 1) for _ in range(6)]
    for strategy in ("concurrent", "threads:2", "packed"):
        backend_on(emulator, strategy=strategy).run_circuits(circuits)
    with pytest.raises(AuthenticationError):
        backend_on(emulator, WRONG).run_circuits(circuits[:1])
    assert "retrying" in caplog.text and "found job" in caplog.text  # the faults did make the client talk
    assert any(r.name.startswith("httpcore") for r in caplog.records)  # httpcore logged at DEBUG
    assert SECRET not in caplog.text and WRONG not in caplog.text


def test_reprs_never_show_the_key(emulator):
    backend = backend_on(emulator)
    client = backend.make_client()
    things = [backend, backend.settings, client, JobRunner(client, FAST_POLL), emulator, emulator.config]
    assert all(SECRET not in repr(thing) and SECRET not in str(thing) for thing in things)
    asyncio.run(client.__aexit__(None, None, None))


def test_errors_never_show_the_key(emulator):
    with pytest.raises(AuthenticationError) as rejected:
        backend_on(emulator, WRONG).run_circuits([qvec.Circuit(1).h(0)])
    unreachable = IonQBackend(api_key=SECRET, base_url="http://127.0.0.1:9/v0.4", env_file=None,
                              retry=RetryPolicy(backoff=0.01, unreached_attempts=1))
    with pytest.raises(TransportError) as refused:
        unreachable.run_circuits([qvec.Circuit(1).h(0)])
    assert WRONG not in shown(rejected.value) and SECRET not in shown(refused.value)


@pytest.mark.parametrize("status", [400, 503])
def test_a_server_that_echoes_the_key_is_redacted_in_errors(status):
    """A server (or proxy) quoting the request's Authorization header in its error answers."""
    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"message": f"refused request with {request.headers['authorization']}"})

    async def main() -> None:
        settings = IonQSettings(SECRET, "https://api.example.test/v0.4", "simulator")
        async with IonQClient(settings, retry=RetryPolicy(max_attempts=2, backoff=0.001),
                              transport=httpx.MockTransport(echo)) as client:
            await client.get_job("some-job")

    with pytest.raises(RequestError) as caught:
        asyncio.run(main())
    assert "refused request with apiKey ***" in str(caught.value) and SECRET not in shown(caught.value)


def test_a_transport_error_quoting_the_key_is_redacted():
    def leaky(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"proxy refused {request.headers['authorization']}", request=request)

    async def main() -> None:
        settings = IonQSettings(SECRET, "https://api.example.test/v0.4", "simulator")
        async with IonQClient(settings, retry=RetryPolicy(backoff=0.001), timeouts=Timeouts(request=1.0),
                              transport=httpx.MockTransport(leaky)) as client:
            await client.get_job("some-job")

    with pytest.raises(IonQError) as caught:
        asyncio.run(main())
    assert SECRET not in shown(caught.value)


def run_cli(tmp_path: Path, emulator: Emulator, key: str, *args: str) -> subprocess.CompletedProcess:
    """``qvec -v run`` in a fresh process whose home, data directory and working directory are ``tmp_path``."""
    environment = {**os.environ, "IONQ_API_KEY": key, "IONQ_BASE_URL": emulator.base_url, "HOME": str(tmp_path),
                   "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    environment.pop("QVEC_JOURNAL", None)  # the journal where qvec puts it by default: under tmp_path
    launch = "from qvec.cli import main; raise SystemExit(main())"
    command = [sys.executable, "-c", launch, "-v", "run", "bell.qasm", *args]
    return subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300)


def test_the_cli_with_debug_logs_and_the_files_it_writes_never_show_the_key(emulator, tmp_path):
    (tmp_path / "bell.qasm").write_text(BELL)
    refused = run_cli(tmp_path, emulator, WRONG, "--backend", "ionq")
    assert refused.returncode == 1 and "rejected the API key" in refused.stderr
    done = run_cli(tmp_path, emulator, SECRET, "--backend", "ionq", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "DEBUG" in done.stderr and '"probabilities"' in done.stdout
    assert SECRET not in done.stdout + done.stderr and WRONG not in refused.stdout + refused.stderr
    written = [path for path in tmp_path.rglob("*") if path.is_file() and path.name != "bell.qasm"]
    assert any("journal" in path.name for path in written)  # the journal was written (under tmp_path)
    for path in written:
        content = path.read_bytes()
        assert SECRET.encode() not in content and WRONG.encode() not in content, path


def test_the_emulator_refuses_missing_and_wrong_keys_without_echoing_them(emulator):
    for headers in ({}, {"Authorization": f"apiKey {WRONG}"}, {"Authorization": f"Bearer {SECRET}"},
                    {"Authorization": SECRET}):
        for method, path in (("GET", "/jobs"), ("POST", "/jobs"), ("GET", "/jobs/some-id"), ("GET", "/backends")):
            answer = request_until_answered(emulator, method, path, headers)
            assert answer.status_code == 401, (method, path, headers)
            assert WRONG not in answer.text and SECRET not in answer.text


def test_each_keys_jobs_are_invisible_to_other_keys(emulator):
    job = backend_on(emulator, strategy="packed")
    job.run_circuits([qvec.Circuit(2).h(0).cx(0, 1) for _ in range(2)])
    mine = request_until_answered(emulator, "GET", "/jobs", {"Authorization": f"apiKey {SECRET}"}).json()["jobs"]
    assert mine
    other = {"Authorization": f"apiKey {OTHER}"}
    assert request_until_answered(emulator, "GET", "/jobs", other).json()["jobs"] == []
    ids = ",".join(j["id"] for j in mine)
    assert request_until_answered(emulator, "GET", f"/jobs?ids={ids}", other).json()["jobs"] == []
    for record in mine:
        for method, path in (("GET", f"/jobs/{record['id']}"), ("GET", f"/jobs/{record['id']}/results/probabilities"),
                             ("PUT", f"/jobs/{record['id']}/status/cancel"), ("DELETE", f"/jobs/{record['id']}")):
            assert request_until_answered(emulator, method, path, other).status_code == 404, (method, path)
    still = request_until_answered(emulator, "GET", "/jobs", {"Authorization": f"apiKey {SECRET}"}).json()["jobs"]
    assert {j["id"] for j in still} == {j["id"] for j in mine}  # the other key's cancel and delete touched nothing


def request_until_answered(emulator: Emulator, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    """One request, repeated while the emulator's injected faults (not the keys) get in the way."""
    retry = httpx.HTTPTransport(retries=3)
    with httpx.Client(base_url=emulator.base_url, headers=headers, timeout=60.0, transport=retry) as client:
        for _ in range(50):
            try:
                answer = client.request(method, emulator.base_url + path)
            except httpx.TransportError:
                continue
            if answer.status_code not in (429, 502, 503, 504, *range(520, 530)) and is_complete(answer):
                return answer
    raise AssertionError(f"{method} {path} got no usable answer")


def is_complete(answer: httpx.Response) -> bool:
    """Not an answer cut short by an injected fault."""
    try:
        answer.json()
    except ValueError:
        return False
    return True
