"""The emulator's execution: every circuit of a job gets its own, complete result (dense numpy reference)."""

import json
import math
import random

import numpy as np
import pytest
import torch

from qvec.circuit.ionq_json import circuit_from_ionq
from qvec.emulator import execute
from qvec.emulator.execute import distribution, distributions, estimated_probabilities
from qvec.errors import BackendError

from .dense import dense_probabilities
from .test_app import wait_done

BELL = [{"gate": "h", "targets": [0]}, {"gate": "cnot", "controls": [0], "targets": [1]}]
FLIP = [{"gate": "x", "targets": [1]}]


def rx(angle):
    return [{"gate": "rx", "targets": [0], "rotation": angle}, {"gate": "cnot", "controls": [0], "targets": [1]}]


def circuits(*gate_lists, n=2):
    return [circuit_from_ionq(gates, n, "qis") for gates in gate_lists]


def dense(answer, n=2):
    """An answer ``{"<state>": p}`` as a dense list over 2**n states."""
    row = [0.0] * 2**n
    for key, value in answer.items():
        row[int(key)] = value
    return row


def test_equal_parameter_free_circuits_each_get_their_probabilities():
    answers = distributions(circuits(BELL, BELL, BELL))
    assert len(answers) == 3
    for answer in answers:
        assert dense(answer) == pytest.approx(dense_probabilities(BELL, 2).tolist())


MIXED = [BELL, FLIP, rx(0.3), BELL, rx(1.1), FLIP, rx(0.3), rx(2.0), rx(-0.4)]


def test_mixed_groups_keep_their_order():
    answers = distributions(circuits(*MIXED))
    assert [dense(a) for a in answers] == [pytest.approx(dense_probabilities(g, 2).tolist()) for g in MIXED]


def test_groups_larger_than_a_chunk_are_run_in_chunks(monkeypatch):
    monkeypatch.setattr(execute, "_CHUNK_BYTES", 2 * 4 * 8)  # two 2-qubit rows per chunk
    calls = []
    real_run_group = execute._run_group
    monkeypatch.setattr(execute, "_run_group", lambda group: calls.append(len(group)) or real_run_group(group))
    answers = distributions(circuits(*MIXED))
    assert [dense(a) for a in answers] == [pytest.approx(dense_probabilities(g, 2).tolist()) for g in MIXED]
    assert sorted(calls) == [1, 2, 2, 2, 2]  # BELL x2 and FLIP x2 once each; five rx rows in chunks of 2


def test_equal_circuits_with_shots_are_each_sampled():
    generator = torch.Generator().manual_seed(5)
    answers = distributions(circuits(BELL, BELL), lambda row: estimated_probabilities(row, 1000, generator))
    for answer in answers:
        counts = {key: round(value * 1000) for key, value in answer.items()}
        assert set(counts) <= {"0", "3"} and sum(counts.values()) == 1000 and 350 < counts["0"] < 650


def test_sampling_follows_the_distribution():
    exact = torch.tensor([0.1, 0.2, 0.0, 0.7], dtype=torch.float64)
    shots = 200_000
    estimate = estimated_probabilities(exact, shots, torch.Generator().manual_seed(0))
    sigma = torch.sqrt(exact * (1 - exact) / shots)
    assert estimate[2] == 0 and float(estimate.sum()) == pytest.approx(1.0)
    assert bool((torch.abs(estimate - exact) <= 5 * sigma + 1e-12).all())


@pytest.mark.parametrize("probabilities", [torch.zeros(4), torch.tensor([0.25, 0.0, 0.0, 0.0]), torch.empty(0)])
def test_a_distribution_that_does_not_sum_to_one_is_refused(probabilities):
    with pytest.raises(BackendError, match="sum to"):
        distribution(probabilities.to(torch.float64))


def _random_gates(rng: random.Random, n: int, length: int) -> list[dict]:
    gates = []
    for _ in range(length):
        a, b = rng.sample(range(n), 2)
        gates.append(rng.choice([
            {"gate": rng.choice("hxyzst"), "targets": [a]},
            {"gate": rng.choice(["rx", "ry", "rz"]), "targets": [a], "rotation": rng.uniform(-math.pi, math.pi)},
            {"gate": "cnot", "controls": [a], "targets": [b]},
            {"gate": "zz", "targets": [a, b], "rotation": rng.uniform(-math.pi, math.pi)},
        ]))
    return gates


def _with_new_angles(gates: list[dict], rng: random.Random) -> list[dict]:
    return [{**g, "rotation": rng.uniform(-math.pi, math.pi)} if "rotation" in g else g for g in gates]


def _random_job(rng: random.Random, n: int) -> list[list[dict]]:
    """Circuits of a few structures: exact repeats, same structure with new angles, and singletons."""
    structures = [_random_gates(rng, n, rng.randint(0, 6)) for _ in range(3)]
    job = []
    for _ in range(rng.randint(2, 9)):
        gates = rng.choice(structures)
        job.append(gates if rng.random() < 0.5 else _with_new_angles(gates, rng))
    return job


@pytest.mark.parametrize("backend", ["simulator", "qpu.aria-1"])
def test_every_child_of_random_packed_jobs_is_complete_and_right(api, backend):
    rng = random.Random(2026)
    jobs = [(n, _random_job(rng, n)) for n in (2, 3, 4) for _ in range(3)]
    ids = []
    for n, gate_lists in jobs:
        body = {"type": "ionq.multi-circuit.v1", "backend": backend, "shots": 4000,
                "input": {"gateset": "qis", "qubits": n, "circuits": [{"circuit": g} for g in gate_lists]}}
        ids.append(api.post("jobs", json=body).json()["id"])
    for (n, gate_lists), job_id in zip(jobs, ids):
        assert wait_done(api, job_id)["status"] == "completed"
        results = list(api.get(f"jobs/{job_id}/results/probabilities/aggregated").json().values())
        assert len(results) == len(gate_lists)
        for gates, result in zip(gate_lists, results):
            reference = dense_probabilities(gates, n)
            assert result and sum(result.values()) == pytest.approx(1.0, abs=1e-9)
            assert all(0 <= int(key) < 2**n for key in result)
            measured = np.zeros(2**n)
            measured[[int(key) for key in result]] = list(result.values())
            tolerance = 1e-9 if backend == "simulator" else 6 * np.sqrt(np.clip(reference * (1 - reference), 0, None) / 4000) + 1e-9
            assert bool((np.abs(measured - reference) <= tolerance).all()), (gates, measured, reference)


def test_a_sparse_result_is_written_as_json_dumps_writes_the_dict(monkeypatch):
    monkeypatch.setattr(execute, "_JSON_PIECE", 3)  # several pieces
    rng = torch.Generator().manual_seed(1)
    row = torch.rand(64, generator=rng, dtype=torch.float64) * (torch.rand(64, generator=rng) < 0.5)
    row = row / row.sum()
    answer = distribution(row)
    as_dict = {str(i): float(row[i]) for i in range(64) if row[i] > 0}
    assert "".join(answer.json_pieces()) == json.dumps(as_dict)
    assert dict(answer) == as_dict and len(answer) == len(as_dict) and answer.nbytes == 16 * len(as_dict)
    missing = next(str(i) for i in range(64) if row[i] == 0)
    assert missing not in answer and "x" not in answer and answer.get(missing) is None


def test_the_memory_bound_counts_one_chunk_and_every_result_at_its_largest():
    assert execute.job_bytes(12, 1, 2**12) == 96 * 2**12 + 16 * 2**12
    assert execute.job_bytes(12, 3, 100) == 3 * 96 * 2**12 + 3 * 16 * 100
    rows = execute._CHUNK_BYTES // (2**20 * 8)  # 8 rows of 20 qubits per chunk
    assert execute.job_bytes(20, 50, 2**20) == rows * 96 * 2**20 + 50 * 16 * 2**20


def test_a_canceled_job_stops_at_the_next_chunk(monkeypatch):
    monkeypatch.setattr(execute, "_CHUNK_BYTES", 2 * 4 * 8)  # two 2-qubit rows per chunk
    chunks = []

    def canceled():
        chunks.append(1)
        return len(chunks) > 2

    with pytest.raises(execute.JobCanceled):
        distributions(circuits(*[rx(0.1 * i) for i in range(10)]), canceled=canceled)
    assert len(chunks) == 3
