"""``qvec run``: JSON and table output, shots, backends, photonic files, and exit codes."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from qvec.cli import main
from qvec.emulator import Emulator, EmulatorConfig

BELL = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\nmeasure q -> c;\n'
# x on qubit 0 only: pins qubit 0 as the least significant bit of the basis-state index.
FIRST_QUBIT = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\nx q[0];\n'
# Mode 0 is a coherent state with mean photon number 0.25, mode 1 the vacuum.
COHERENT = "name coherent\nversion 1.0\ntarget fock (num_subsystems=2, cutoff_dim=6)\n\nDgate(0.5, 0.0) | 0\n"


@pytest.fixture
def files(tmp_path: Path):
    def write(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)
    return write


def run_json(capsys, *args: str) -> list[dict]:
    assert main(["run", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def fail(capsys, *args: str) -> str:
    """Run, expect exit 2 and a one-line error without traceback; return that line."""
    assert main(["run", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Traceback" not in captured.err
    lines = [line for line in captured.err.splitlines() if line.strip()]
    return lines[-1]


def test_bell_json(capsys, files) -> None:
    bell = files("bell.qasm", BELL)
    [result] = run_json(capsys, bell)
    assert set(result) == {"file", "n_qubits", "probabilities"}
    assert result["file"] == bell and result["n_qubits"] == 2
    assert result["probabilities"] == pytest.approx([0.5, 0.0, 0.0, 0.5], abs=1e-12)


def test_files_keep_their_order_and_qubit_0_is_the_least_significant_bit(capsys, files) -> None:
    first, bell = files("first.qasm", FIRST_QUBIT), files("bell.qasm", BELL)
    results = run_json(capsys, first, bell, first)
    assert [r["file"] for r in results] == [first, bell, first]
    assert results[0]["probabilities"] == pytest.approx([0, 1, 0, 0, 0, 0, 0, 0], abs=1e-12)


def test_shots_add_counts_reproducible_with_a_seed(capsys, files) -> None:
    bell = files("bell.qasm", BELL)
    [result] = run_json(capsys, bell, "--shots", "1000", "--seed", "7")
    counts = result["counts"]
    assert set(counts) <= {"0", "3"} and sum(counts.values()) == 1000
    assert 400 < counts["0"] < 600
    assert run_json(capsys, bell, "--shots", "1000", "--seed", "7")[0]["counts"] == counts
    assert result["probabilities"] == pytest.approx([0.5, 0.0, 0.0, 0.5], abs=1e-12)


def test_human_output_is_a_table_per_file(capsys, files) -> None:
    bell = files("bell.qasm", BELL)
    assert main(["run", bell, files("first.qasm", FIRST_QUBIT), "--shots", "10", "--seed", "1"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # titles may wrap
    assert "bell.qasm (2 qubits)" in out and "first.qasm (3 qubits)" in out
    assert "bits (qubit 0 rightmost)" in out and "count" in out
    assert "│ 0 │ 00 │ 0.500000 │" in out and "│ 3 │ 11 │ 0.500000 │" in out and " 01 " not in out
    assert "│ 1 │ 001 │ 1.000000 │ 10 │" in out  # x on qubit 0: state 1, written with qubit 0 rightmost


def table_rows(out: str) -> list[list[str]]:
    """The body rows of the rich tables in ``out``, as lists of stripped cells."""
    return [[cell.strip() for cell in line.strip("│").split("│")] for line in out.splitlines()
            if line.startswith("│")]


UNIFORM_10 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[10];\nh q;\n'


def test_shot_table_lists_the_sampled_states_with_their_counts(capsys, files) -> None:
    """10 qubits, uniform, 5 shots: every row is a state that was drawn, none hides behind unsampled ones."""
    path = files("uniform.qasm", UNIFORM_10)
    [result] = run_json(capsys, path, "--shots", "5", "--seed", "3")
    counts = {int(state): n for state, n in result["counts"].items()}
    assert main(["run", path, "--shots", "5", "--seed", "3"]) == 0
    rows = table_rows(capsys.readouterr().out)
    assert {int(row[0]): int(row[3]) for row in rows} == counts
    assert all(row[1] == format(int(row[0]), "010b") for row in rows)
    assert [int(row[3]) for row in rows] == sorted(counts.values(), reverse=True)


def test_top_limits_the_rows_to_the_most_likely_states_best_first(capsys, files) -> None:
    angles = (0.5, 1.0, 2.0)
    text = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\n' + "".join(f"ry({a}) q[{i}];\n" for i, a in enumerate(angles))
    path = files("product.qasm", text)

    def textbook(state: int) -> float:  # a product state: P = prod_i (sin^2 or cos^2 of angle_i / 2)
        return math.prod(math.sin(a / 2) ** 2 if state >> i & 1 else math.cos(a / 2) ** 2 for i, a in enumerate(angles))

    assert main(["run", path, "--top", "3"]) == 0
    out = capsys.readouterr().out
    expected = sorted(range(8), key=textbook, reverse=True)[:3]
    assert [int(row[0]) for row in table_rows(out)] == expected
    assert [float(row[2]) for row in table_rows(out)] == pytest.approx([textbook(s) for s in expected], abs=1e-6)
    assert "5 more states with nonzero probability" in " ".join(out.split())


def test_top_with_shots_keeps_the_most_counted(capsys, files) -> None:
    path = files("uniform.qasm", UNIFORM_10)
    [result] = run_json(capsys, path, "--shots", "3000", "--seed", "11")
    ranked = sorted(result["counts"].items(), key=lambda item: (-item[1], int(item[0])))
    assert main(["run", path, "--shots", "3000", "--seed", "11", "--top", "4"]) == 0
    out = capsys.readouterr().out
    assert [(row[0], int(row[3])) for row in table_rows(out)] == ranked[:4]
    assert f"{len(ranked) - 4} more sampled states" in " ".join(out.split())


@pytest.mark.parametrize("text, message", [
    ("OPENQASM 2.0;\nqreg q[1];\nreset q[0];\n", ":3:1: 'reset' is not supported at 'reset'"),
    ("OPENQASM 2.0;\nqreg q[1];\nh q[0];\n", ':3:1: unknown gate (include "qelib1.inc") at \'h\''),
])
def test_bad_file_exits_2_naming_file_line_and_token_with_no_partial_result(capsys, files, text, message) -> None:
    bad = files("bad.qasm", text)
    assert fail(capsys, files("good.qasm", BELL), bad, "--json") == f"error: {bad}{message}"


def test_unknown_file_type_exits_2(capsys, files) -> None:
    assert "unknown file type '.txt'" in fail(capsys, files("circuit.txt", BELL))


@pytest.mark.parametrize("options", [["--shots", "0"], ["--backend", "aws"], ["--cutoff", "-1"], ["--seed", "x"],
                                     ["--top", "0"], ["--param", "theta"], ["--param", "theta=x"], ["--param", "1x=0.1"],
                                     ["--param", "a=1,2", "--param", "b=1,2,3"], ["--param", "a=1", "--param", "a=2"],
                                     ["--param", "a=nan"], ["--target", "simulator"], ["--base-url", "http://h/v0.4"]])
def test_bad_options_exit_2(capsys, files, options: list[str]) -> None:
    fail(capsys, files("bell.qasm", BELL), *options)


@pytest.mark.parametrize("args", [["missing.qasm"], []])
def test_missing_files_exit_2(capsys, args: list[str]) -> None:
    fail(capsys, *args)


def test_photonic_file_refused_on_ionq(capsys, files) -> None:
    assert "qubit circuits only" in fail(capsys, files("c.xbb", COHERENT), "--backend", "ionq")


def poisson(mean: float, n: int) -> float:
    return math.exp(-mean) * mean**n / math.factorial(n)


def test_photonic_json_is_row_major_with_mode_0_slowest(capsys, files) -> None:
    path = files("coherent.xbb", COHERENT)
    [result] = run_json(capsys, path)
    assert (result["file"], result["n_modes"], result["cutoff"]) == (path, 2, 6)
    fock = result["fock_probabilities"]
    assert len(fock) == 36
    assert [fock[n * 6] for n in range(4)] == pytest.approx([poisson(0.25, n) for n in range(4)], abs=1e-6)
    assert fock[1] == pytest.approx(0.0, abs=1e-9)
    truncated_mean = sum(n * poisson(0.25, n) for n in range(6))  # the state lives in Fock space below the cutoff
    assert result["mean_photon"] == pytest.approx([truncated_mean, 0.0], abs=1e-9)


def test_cutoff_option_wins_and_a_missing_cutoff_exits_2(capsys, files) -> None:
    assert run_json(capsys, files("coherent.xbb", COHERENT), "--cutoff", "4")[0]["cutoff"] == 4
    no_cutoff = files("nocutoff.xbb", COHERENT.replace(", cutoff_dim=6", ""))
    assert "nocutoff.xbb: no Fock cutoff" in fail(capsys, no_cutoff)


def test_a_program_with_a_free_parameter_exits_2_naming_file_and_parameter(capsys, files) -> None:
    template = files("template.xbb", COHERENT.replace("Dgate(0.5, 0.0)", "Dgate({alpha}, 0.0)"))
    message = fail(capsys, template)
    assert "template.xbb" in message and "alpha" in message


def test_mixed_files_keep_their_order(capsys, files) -> None:
    results = run_json(capsys, files("c.xbb", COHERENT), files("bell.qasm", BELL))
    assert ["n_modes" in results[0], "n_qubits" in results[1]] == [True, True]
    assert main(["run", files("c.xbb", COHERENT)]) == 0
    assert "c.xbb (2 modes, cutoff 6)" in " ".join(capsys.readouterr().out.split())  # titles may wrap


def test_installed_entry_point_prints_bell_json(files) -> None:
    executable = Path(sys.executable).with_name("qvec")
    assert executable.exists(), f"the qvec entry point is not installed next to {sys.executable}"
    done = subprocess.run([str(executable), "run", files("bell.qasm", BELL), "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    [result] = json.loads(done.stdout)
    assert result["n_qubits"] == 2
    assert result["probabilities"] == pytest.approx([0.5, 0.0, 0.0, 0.5], abs=1e-12)


def test_entry_point_exit_code_for_bad_input(files) -> None:
    executable = Path(sys.executable).with_name("qvec")
    done = subprocess.run([str(executable), "run", files("bad.qasm", "qreg q[1];\nfoo q[0];\n")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: " + str(Path(done.args[2])) + ":2:1: unknown gate at 'foo'"


def test_ionq_backend_against_the_emulator(capsys, files, monkeypatch, tmp_path) -> None:
    """End to end: the real IonQ backend and the IonQ-compatible emulator give the local answer."""
    key = "cli-test-key-0b7e"
    with Emulator(EmulatorConfig(api_keys=(key,), latency=0.01)) as emulator:
        monkeypatch.chdir(tmp_path)  # no .env file from the working directory
        monkeypatch.setenv("IONQ_API_KEY", key)
        monkeypatch.setenv("IONQ_BASE_URL", emulator.base_url)
        monkeypatch.delenv("IONQ_TARGET", raising=False)
        bell, first = files("bell.qasm", BELL), files("first.qasm", FIRST_QUBIT)
        results = run_json(capsys, bell, first, "--backend", "ionq", "--shots", "200", "--seed", "5")
    assert results[0]["probabilities"] == pytest.approx([0.5, 0, 0, 0.5], abs=1e-9)
    assert set(results[0]["counts"]) <= {"0", "3"} and sum(results[0]["counts"].values()) == 200
    assert results[1]["probabilities"] == pytest.approx([0, 1, 0, 0, 0, 0, 0, 0], abs=1e-9)
    assert results[1]["counts"] == {"1": 200}


PARAMETRIC = str(Path(__file__).parents[2] / "src" / "qvec" / "photonic" / "examples" / "parametric.xbb")


def two_mode_coherent(alpha: float, theta: float, cutoff: int) -> tuple[list[float], list[float]]:
    """Dgate(alpha) on mode 0, then BSgate(theta, .): coherent states of means (alpha cos)^2 and (alpha sin)^2.

    Returns the row-major Fock probabilities (products of Poissons) and the mean photon numbers.
    """
    means = ((alpha * math.cos(theta)) ** 2, (alpha * math.sin(theta)) ** 2)
    fock = [poisson(means[0], n0) * poisson(means[1], n1) for n0 in range(cutoff) for n1 in range(cutoff)]
    return fock, list(means)


def test_bundled_parametric_program_runs_a_batch_of_parameter_rows(capsys) -> None:
    thetas = (0.1, 0.7, 1.2)
    results = run_json(capsys, PARAMETRIC, "--param", "alpha=0.5", "--param", "theta=" + ",".join(map(str, thetas)),
                       "--cutoff", "10")
    assert [r["params"] for r in results] == [{"alpha": 0.5, "theta": t} for t in thetas]
    assert [r["file"] for r in results] == [PARAMETRIC] * 3
    for result, theta in zip(results, thetas):
        fock, means = two_mode_coherent(0.5, theta, 10)
        assert result["fock_probabilities"] == pytest.approx(fock, abs=1e-9)
        assert result["mean_photon"] == pytest.approx(means, abs=1e-9)


def test_one_value_per_parameter_gives_one_object_with_its_params(capsys, files) -> None:
    [result] = run_json(capsys, PARAMETRIC, "--param", "theta=0.3", "--param", "alpha=0.4", "--cutoff", "10")
    assert result["params"] == {"alpha": 0.4, "theta": 0.3}
    assert result["mean_photon"] == pytest.approx(two_mode_coherent(0.4, 0.3, 10)[1], abs=1e-9)
    [plain] = run_json(capsys, files("coherent.xbb", COHERENT))
    assert "params" not in plain  # a program without free parameters keeps the documented keys


def test_missing_and_unknown_parameters_exit_2_naming_them(capsys, files) -> None:
    missing = fail(capsys, PARAMETRIC, "--param", "alpha=0.5", "--cutoff", "5")
    assert "parametric.xbb" in missing and "theta" in missing and "alpha" not in missing.split("have no value")[0]
    unknown = fail(capsys, PARAMETRIC, "--param", "alpha=0.5", "--param", "theta=0.1", "--param", "beta=2",
                   "--param", "gamma=1", "--cutoff", "5")
    assert "beta, gamma" in unknown and "alpha, theta" in unknown
    assert "--param x" in fail(capsys, files("bell.qasm", BELL), "--param", "x=1")


def test_shots_on_a_blackbird_file_sample_photon_numbers(capsys, files) -> None:
    """Coherent state of mean 0.25 in mode 0, vacuum in mode 1: counts keyed by index into fock_probabilities."""
    path = files("coherent.xbb", COHERENT)
    [result] = run_json(capsys, path, "--shots", "20000", "--seed", "4")
    counts = {int(index): n for index, n in result["counts"].items()}
    assert sum(counts.values()) == 20000
    assert all(index % 6 == 0 for index in counts)  # mode 1 (the fast index) always counts 0 photons
    for n in range(3):
        p = poisson(0.25, n)
        assert abs(counts.get(6 * n, 0) / 20000 - p) < 5 * math.sqrt(p * (1 - p) / 20000)
    assert run_json(capsys, path, "--shots", "20000", "--seed", "4")[0]["counts"] == result["counts"]


def test_shots_on_a_parameter_batch_count_each_row(capsys) -> None:
    results = run_json(capsys, PARAMETRIC, "--param", "alpha=0.0,0.5", "--param", "theta=0.3", "--cutoff", "6",
                       "--shots", "50", "--seed", "1")
    assert results[0]["counts"] == {"0": 50}  # alpha = 0: the vacuum, every shot counts no photon
    assert sum(results[1]["counts"].values()) == 50


def run_with_stderr(capsys, *args: str) -> tuple[list[dict], str]:
    assert main(["run", *args, "--json"]) == 0
    captured = capsys.readouterr()
    return json.loads(captured.out), captured.err


def test_truncation_is_one_cli_warning_and_renormalize_rescales(capsys, files) -> None:
    bright = files("bright.xbb", COHERENT.replace("Dgate(0.5, 0.0)", "Dgate(1.5, 0.0)"))
    [result], err = run_with_stderr(capsys, bright, "--cutoff", "3")
    [warning] = err.splitlines()
    assert warning.startswith(f"warning: {bright}: Fock truncation at cutoff 3")
    assert warning.endswith("Raise --cutoff or pass --renormalize.") and "renormalize=True" not in warning
    kept = sum(poisson(1.5**2, n) for n in range(3))
    assert sum(result["fock_probabilities"]) == pytest.approx(kept, abs=1e-9)
    [rescaled], err = run_with_stderr(capsys, bright, "--cutoff", "3", "--renormalize")
    assert len(err.splitlines()) == 1 and "renormalized (--renormalize)" in err
    assert rescaled["fock_probabilities"][::3] == pytest.approx([poisson(2.25, n) / kept for n in range(3)], abs=1e-9)


def test_ionq_flags_choose_key_url_and_target_without_the_environment(capsys, files, monkeypatch, tmp_path) -> None:
    key = "cli-flag-key-5d21"
    key_file = tmp_path / "ionq.key"
    key_file.write_text(key + "\n")  # as an editor saves it: the newline is not part of the key
    monkeypatch.chdir(tmp_path)  # no .env file from the working directory
    for name in ("IONQ_API_KEY", "IONQ_BASE_URL", "IONQ_TARGET"):
        monkeypatch.delenv(name, raising=False)
    with Emulator(EmulatorConfig(api_keys=(key,), latency=0.01)) as emulator:
        bell = files("bell.qasm", BELL)
        assert main(["-v", "run", bell, "--backend", "ionq", "--api-key-file", str(key_file), "--base-url",
                     emulator.base_url, "--target", "qpu.aria-1", "--shots", "100", "--seed", "2", "--json"]) == 0
        captured = capsys.readouterr()
        listed = httpx.get(f"{emulator.base_url}/jobs", params={"target": "qpu.aria-1"},
                           headers={"Authorization": f"apiKey {key}"}, timeout=10).json()["jobs"]
    [result] = json.loads(captured.out)
    assert key not in captured.out + captured.err
    assert len(listed) == 1  # the job went to the target named on the command line
    counts = result["counts"]
    assert set(counts) <= {"0", "3"} and sum(counts.values()) == 100
    assert [result["probabilities"][int(state)] for state in counts] == pytest.approx([n / 100 for n in counts.values()])


@pytest.mark.parametrize("content, message", [("", "the API key file is empty"),
                                              ("abc\x07def\n", "contains a control")])
def test_a_bad_api_key_file_exits_2_naming_the_file_not_the_key(capsys, files, tmp_path, content, message) -> None:
    key_file = tmp_path / "ionq.key"
    key_file.write_text(content)
    line = fail(capsys, files("bell.qasm", BELL), "--backend", "ionq", "--api-key-file", str(key_file))
    assert message in line and str(key_file) in line and "abc" not in line


@pytest.mark.parametrize("n_qubits", [30, 40, 64])
def test_a_state_too_large_for_memory_is_one_line_exit_2(capsys, files, monkeypatch, n_qubits) -> None:
    monkeypatch.setenv("QVEC_MEMORY_BUDGET", str(2**30))  # the same answer on any machine
    wide = files("wide.qasm", f'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[{n_qubits}];\nh q[0];\n')
    line = fail(capsys, wide)
    assert line.startswith(f"error: {n_qubits} qubits") and "use fewer qubits" in line


@pytest.mark.parametrize("name, text", [("bell.qasm", BELL), ("c.xbb", COHERENT)])
def test_shots_too_many_for_memory_are_one_line_exit_2(capsys, files, monkeypatch, name, text) -> None:
    monkeypatch.setenv("QVEC_MEMORY_BUDGET", str(2**30))
    line = fail(capsys, files(name, text), "--shots", "1000000000")
    assert "needed" in line and "QVEC_MEMORY_BUDGET" in line


def test_sigterm_during_a_remote_batch_cancels_its_job_and_exits_143(files, tmp_path) -> None:
    """A real `kill` while `qvec run --backend ionq` waits on a job that would run for ten minutes."""
    key = "cli-sigterm-key-77a0"
    headers = {"Authorization": f"apiKey {key}"}
    with Emulator(EmulatorConfig(api_keys=(key,), latency=600.0)) as emulator:
        environment = {**os.environ, "IONQ_API_KEY": key, "IONQ_BASE_URL": emulator.base_url, "IONQ_TARGET": "simulator"}
        process = subprocess.Popen([str(Path(sys.executable).with_name("qvec")), "run", files("bell.qasm", BELL),
                                    "--backend", "ionq"], cwd=tmp_path, env=environment, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            jobs = wait_for_jobs(f"{emulator.base_url}/jobs", headers, process)
            process.send_signal(signal.SIGTERM)
            _, err = process.communicate(timeout=120)
        finally:
            process.kill()
        [job] = httpx.get(f"{emulator.base_url}/jobs", headers=headers, timeout=10).json()["jobs"]
    assert len(jobs) == 1 and process.returncode == 143, err
    assert job["status"] == "canceled"
    assert "terminated (SIGTERM): the batch's jobs in flight were canceled" in err and "Traceback" not in err


def wait_for_jobs(url: str, headers: dict, process: subprocess.Popen) -> list[dict]:
    """The server's jobs once there is one (the command is then waiting on it); fails if the command ended first."""
    while process.poll() is None:
        jobs = httpx.get(url, headers=headers, timeout=10).json()["jobs"]
        if jobs:
            return jobs
        threading.Event().wait(0.05)  # a polling interval, not a deadline: the loop ends on an event
    pytest.fail(f"qvec run ended before submitting a job: {process.communicate()}")


def test_a_fock_space_too_large_for_memory_is_one_line_exit_2(capsys, files, monkeypatch) -> None:
    monkeypatch.setenv("QVEC_MEMORY_BUDGET", str(2**30))
    wide = files("wide.xbb", COHERENT.replace("num_subsystems=2, cutoff_dim=6", "num_subsystems=12, cutoff_dim=10"))
    line = fail(capsys, wide)
    assert line.startswith("error: 12 mode(s) at cutoff 10") and "QVEC_MEMORY_BUDGET" in line


QASM = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'
XBB = "name x\nversion 1.0\ntarget fock (num_subsystems=1, cutoff_dim=4)\n"


@pytest.mark.parametrize("name, text, where", [
    # Each hung, or ended in a raw traceback (a RecursionError's ran to 2,998 lines), before the loaders bounded them.
    ("huge.qasm", QASM + "qreg q[1000000000];\n", ":3:8: registers of more than 1024 qubits"),
    ("expanding.qasm", QASM + "qreg q[1];\ngate g0 a { x a; }\n"
     + "".join(f"gate g{i} a {{ g{i - 1} a; g{i - 1} a; }}\n" for i in range(1, 23)) + "g22 q[0];\n",
     ":27:1: the call expands to 4,194,304 operation(s)"),
    ("nested.qasm", QASM + "qreg q[1];\nrx(" + "(" * 150 + "1" + ")" * 150 + ") q[0];\n",
     ":4:68: angle expression nested more than 64 deep"),
    ("divide.xbb", XBB + "float x = 1/0\n", ":4: cannot evaluate '1 / 0'"),
    ("overflow.xbb", XBB + "int x = 1e400\n", ":4: a number is past the largest float"),
    ("tower.xbb", XBB + "float x = 9**9**9**9\n", ":4: '9 ** 9 ** 9' is too large"),
    ("power.xbb", XBB + "float x = 10**10**8\n", ":4: '10 ** 10 ** 8' is too large"),
    ("modes.xbb", XBB.replace("num_subsystems=1", "num_subsystems=1000000000"), ":3: num_subsystems=1000000000 is more"),
    ("cutoff.xbb", XBB.replace("cutoff_dim=4", 'cutoff_dim="x"'), ":3: cutoff_dim must be a positive integer, got 'x'"),
    ("complex.xbb", XBB.replace("cutoff_dim=4", "cutoff_dim=1j"), ":3: cutoff_dim must be a positive integer, got 1j"),
])
def test_hostile_files_are_one_line_naming_file_and_line_exit_2(capsys, files, name, text, where) -> None:
    path = files(name, text + ("Dgate(0.1) | 0\n" if name.endswith(".xbb") else ""))
    assert fail(capsys, path).startswith(f"error: {path}{where}")
