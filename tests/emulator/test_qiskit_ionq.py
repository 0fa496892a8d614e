"""qiskit-ionq, IonQ's official Qiskit provider, pointed at the emulator: a Bell circuit's counts."""

import pytest

qiskit_ionq = pytest.importorskip("qiskit_ionq")
qiskit = pytest.importorskip("qiskit")

from .conftest import KEY  # noqa: E402


def test_a_bell_circuit_runs_through_qiskit_ionq(start_emulator, monkeypatch):
    emulator = start_emulator(latency=0.0)
    monkeypatch.setenv("IONQ_API_URL", emulator.base_url)  # where qiskit-ionq looks backends up
    backend = qiskit_ionq.IonQProvider(token=KEY, url=emulator.base_url).get_backend("simulator")
    circuit = qiskit.QuantumCircuit(2, 2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure([0, 1], [0, 1])
    job = backend.run(circuit, shots=1000)
    counts = job.get_counts()
    assert set(counts) == {"00", "11"} and sum(counts.values()) == 1000
    assert 400 < counts["00"] < 600
    assert job.result().get_probabilities() == pytest.approx({"00": 0.5, "11": 0.5})
    counters = emulator.counters()
    assert counters["jobs_created"] == 1


def test_two_equal_circuits_in_one_qiskit_ionq_job_each_get_their_counts(start_emulator, monkeypatch):
    emulator = start_emulator(latency=0.0)
    monkeypatch.setenv("IONQ_API_URL", emulator.base_url)
    backend = qiskit_ionq.IonQProvider(token=KEY, url=emulator.base_url).get_backend("simulator")
    circuit = qiskit.QuantumCircuit(2, 2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure([0, 1], [0, 1])
    job = backend.run([circuit, circuit.copy()], shots=1000)
    result = job.result()
    for index in range(2):
        assert result.get_probabilities(index) == pytest.approx({"00": 0.5, "11": 0.5})
        assert sum(result.get_counts(index).values()) == 1000
    assert emulator.counters()["jobs_created"] == 1
