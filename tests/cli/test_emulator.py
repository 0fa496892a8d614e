"""``qvec emulator``: the first line names the URL, the API answers there, no key means no start."""

import os
import signal
import socket
import subprocess
import sys

import httpx
import pytest
from click.testing import CliRunner

from qvec.cli import _register_commands, cli, main
from qvec.cli.emulator import command

LAUNCH = "import sys; from qvec.cli.emulator import command; command(prog_name='qvec emulator')"


@pytest.mark.usefixtures("sigint_handled")
def test_it_prints_its_url_then_the_api_base_and_serves_the_api_there(tmp_path):
    process = subprocess.Popen([sys.executable, "-c", LAUNCH, "--api-key", "cli-key", "--latency", "0.01", "--admin",
                                "--rate-limit", "0.01"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        first = process.stdout.readline().strip()
        assert first.startswith("listening on http://127.0.0.1:")
        url = first.removeprefix("listening on ")
        assert process.stdout.readline().strip() == f"IONQ_BASE_URL={url}/v0.4"
        key = {"Authorization": "apiKey cli-key"}
        answer = httpx.get(f"{url}/v0.4/jobs", headers=key, timeout=60)
        assert answer.status_code == 200 and answer.json() == {"jobs": [], "next": None}
        limited = httpx.get(f"{url}/v0.4/jobs", headers=key, timeout=60)  # --rate-limit 0.01: one per 100 s
        assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 100
        assert httpx.get(f"{url}/admin/counters", timeout=60).status_code == 401
        assert httpx.get(f"{url}/admin/counters", headers=key, timeout=60).json()["jobs_created"] == 0
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0


def test_a_busy_port_is_one_line_and_exit_1(capsys):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        status = main(["emulator", "--api-key", "cli-key", "--port", str(port)])
    captured = capsys.readouterr()
    assert status == 1 and captured.out == ""
    assert captured.err == f"error: cannot listen on 127.0.0.1:{port}: Address already in use; pick another --port, or 0 for a free one\n"


def test_it_refuses_to_start_without_a_key(tmp_path, monkeypatch):
    monkeypatch.delenv("IONQ_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(command, ["--port", "0"])
    assert result.exit_code == 2 and "needs an API key" in result.output


@pytest.mark.usefixtures("sigint_handled")
def test_the_key_may_come_from_the_environment(tmp_path):
    environment = {**os.environ, "IONQ_API_KEY": "env-key"}
    process = subprocess.Popen([sys.executable, "-c", LAUNCH], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=tmp_path, env=environment)
    try:
        url = process.stdout.readline().strip().removeprefix("listening on ")
        assert httpx.get(f"{url}/v0.4/jobs", headers={"Authorization": "apiKey env-key"}, timeout=60).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def test_qvec_emulator_is_registered():
    _register_commands()
    assert "emulator" in cli.commands and "remote" in cli.commands["bench"].commands


@pytest.mark.usefixtures("sigint_handled")
def test_memory_budget_and_result_keeping_flags_reach_the_server(tmp_path):
    process = subprocess.Popen([sys.executable, "-c", LAUNCH, "--api-key", "cli-key", "--memory-budget", "1",
                                "--results-kept", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=tmp_path)
    try:
        url = process.stdout.readline().strip().removeprefix("listening on ") + "/v0.4"
        key = {"Authorization": "apiKey cli-key"}

        def post(qubits):
            body = {"input": {"qubits": qubits, "circuit": [{"gate": "h", "targets": [0]}]}}
            return httpx.post(f"{url}/jobs", json=body, headers=key, timeout=60)

        assert post(14).status_code == 400  # 112 * 2**14 bytes at its largest: over 1 MiB
        job_id = post(2).json()["id"]
        while (status := httpx.get(f"{url}/jobs/{job_id}", headers=key, timeout=60).json()["status"]) != "completed":
            assert status in ("submitted", "ready", "started")
        assert httpx.get(f"{url}/jobs/{job_id}/results/probabilities", headers=key, timeout=60).status_code == 410
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0


def test_the_fault_options_reach_the_emulator_and_a_bad_endpoint_is_one_line(capsys, tmp_path):
    status = main(["emulator", "--api-key", "cli-key", "--truncate-rate", "0.5", "--fault-endpoint", "GET /job"])
    error = capsys.readouterr().err
    assert status == 2 and error.count("\n") == 1 and "endpoints must be a tuple of POST /jobs" in error
    process = subprocess.Popen([sys.executable, "-c", LAUNCH, "--api-key", "cli-key", "--admin", "--truncate-rate", "1",
                                "--fault-endpoint", "GET /jobs"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=tmp_path)
    try:
        url = process.stdout.readline().split()[-1]
        answer = httpx.get(f"{url}/v0.4/jobs", headers={"Authorization": "apiKey cli-key"}, timeout=60)
        assert answer.status_code == 200 and answer.content.startswith(b'{"jobs"')
        with pytest.raises(ValueError):
            answer.json()  # cut in half
        assert httpx.get(f"{url}/v0.4/backends", headers={"Authorization": "apiKey cli-key"}, timeout=60).json()
    finally:
        process.terminate()
        process.wait(timeout=60)
