"""``qvec run``: JSON and table output, shots, backends, photonic files, and exit codes."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import qvec
import qvec.backends
from qvec.cli import main

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
    assert "|00>" in out and "|11>" in out and "|01>" not in out and "|001>" in out
    assert "0.500000" in out and "count" in out


@pytest.mark.parametrize("text, message", [
    ("OPENQASM 2.0;\nqreg q[1];\nreset q[0];\n", ":3:1: 'reset' is not supported at 'reset'"),
    ("OPENQASM 2.0;\nqreg q[1];\nh q[0];\n", ':3:1: unknown gate (include "qelib1.inc") at \'h\''),
])
def test_bad_file_exits_2_naming_file_line_and_token_with_no_partial_result(capsys, files, text, message) -> None:
    bad = files("bad.qasm", text)
    assert fail(capsys, files("good.qasm", BELL), bad, "--json") == f"error: {bad}{message}"


def test_unknown_file_type_exits_2(capsys, files) -> None:
    assert "unknown file type '.txt'" in fail(capsys, files("circuit.txt", BELL))


@pytest.mark.parametrize("options", [["--shots", "0"], ["--backend", "aws"], ["--cutoff", "-1"], ["--seed", "x"]])
def test_bad_options_exit_2(capsys, files, options: list[str]) -> None:
    fail(capsys, files("bell.qasm", BELL), *options)


@pytest.mark.parametrize("args", [["missing.qasm"], []])
def test_missing_files_exit_2(capsys, args: list[str]) -> None:
    fail(capsys, *args)


class FakeIonQ:
    """Stands in for qvec.backends.IonQBackend: answers with the local simulator and records calls."""

    instances: list[FakeIonQ] = []

    def __init__(self, shots: int | None = None, seed: int | None = None) -> None:
        self.shots, self.seed = shots, seed
        self.calls: list[tuple] = []
        FakeIonQ.instances.append(self)

    def probs(self, circuit, params, *, dtype, device):
        self.calls.append(("probs", circuit))
        return qvec.sim.probs(circuit, params, dtype=dtype, device=device)

    def sample(self, circuit, shots, params, *, seed, dtype, device):
        self.calls.append(("sample", circuit, shots, seed))
        return qvec.sim.sample(circuit, shots, params, seed=seed, dtype=dtype, device=device)


class Results(list):
    """What IonQBackend.run_circuits returns: probability tensors, and counts when shots were set."""

    def __init__(self, probabilities, counts) -> None:
        super().__init__(probabilities)
        self.counts = counts


class FakeBatchingIonQ(FakeIonQ):
    def run_circuits(self, circuits, shots=None):
        self.calls.append(("run_circuits", tuple(circuits), shots))
        probabilities = [qvec.sim.probs(c, dtype=torch.complex128)[0] for c in circuits]
        counts = [qvec.sim.counts(qvec.sim.sample(c, shots, seed=self.seed))[0] for c in circuits] if shots else None
        return Results(probabilities, counts)


@pytest.mark.parametrize("backend_class", [FakeIonQ, FakeBatchingIonQ])
def test_ionq_backend_runs_the_qubit_files(capsys, files, monkeypatch, backend_class) -> None:
    monkeypatch.setattr(qvec.backends, "IonQBackend", backend_class, raising=False)
    FakeIonQ.instances.clear()
    bell, first = files("bell.qasm", BELL), files("first.qasm", FIRST_QUBIT)
    results = run_json(capsys, bell, first, "--backend", "ionq", "--shots", "100", "--seed", "3")
    [backend] = FakeIonQ.instances
    circuits = (qvec.circuit.load_qasm(bell), qvec.circuit.load_qasm(first))
    assert (backend.shots, backend.seed) == (100, 3)
    if backend_class is FakeBatchingIonQ:
        assert backend.calls == [("run_circuits", circuits, 100)]  # one batch, in order
    else:
        assert backend.calls == [("probs", c) for c in circuits] + [("sample", c, 100, 3) for c in circuits]
    assert results[0]["probabilities"] == pytest.approx([0.5, 0, 0, 0.5], abs=1e-6)
    assert results[1]["counts"] == {"1": 100}


def test_ionq_backend_missing_exits_1(capsys, files, monkeypatch) -> None:
    monkeypatch.delattr(qvec.backends, "IonQBackend", raising=False)
    assert main(["run", files("bell.qasm", BELL), "--backend", "ionq"]) == 1
    assert "IonQ backend is not available" in capsys.readouterr().err


def test_photonic_file_refused_on_ionq(capsys, files, monkeypatch) -> None:
    monkeypatch.setattr(qvec.backends, "IonQBackend", FakeIonQ, raising=False)
    photonic = pytest.importorskip("qvec.photonic")
    if not hasattr(photonic, "load_blackbird"):
        pytest.skip("qvec.photonic.load_blackbird is not there yet")
    assert "qubit circuits only" in fail(capsys, files("c.xbb", COHERENT), "--backend", "ionq")


@pytest.fixture
def blackbird():
    photonic = pytest.importorskip("qvec.photonic")
    if not hasattr(photonic, "load_blackbird"):
        pytest.skip("qvec.photonic.load_blackbird is not there yet")


def poisson(mean: float, n: int) -> float:
    return math.exp(-mean) * mean**n / math.factorial(n)


@pytest.mark.usefixtures("blackbird")
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


@pytest.mark.usefixtures("blackbird")
def test_cutoff_option_wins_and_a_missing_cutoff_exits_2(capsys, files) -> None:
    assert run_json(capsys, files("coherent.xbb", COHERENT), "--cutoff", "4")[0]["cutoff"] == 4
    no_cutoff = files("nocutoff.xbb", COHERENT.replace(", cutoff_dim=6", ""))
    assert "nocutoff.xbb: no Fock cutoff" in fail(capsys, no_cutoff)


@pytest.mark.usefixtures("blackbird")
def test_a_program_with_a_free_parameter_exits_2_naming_file_and_parameter(capsys, files) -> None:
    template = files("template.xbb", COHERENT.replace("Dgate(0.5, 0.0)", "Dgate({alpha}, 0.0)"))
    message = fail(capsys, template)
    assert "template.xbb" in message and "alpha" in message


@pytest.mark.usefixtures("blackbird")
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
    emulator_module = pytest.importorskip("qvec.emulator")
    key = "cli-test-key-0b7e"
    with emulator_module.Emulator(emulator_module.EmulatorConfig(api_keys=(key,), latency=0.01)) as emulator:
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
