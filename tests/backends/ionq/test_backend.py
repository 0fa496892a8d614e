"""IonQBackend against the emulator: results in input order, counts, expectation values, errors.

References are textbook: product states of rotations, whose probabilities and Pauli
expectations have closed forms, and the Bell state.
"""

import json
import math

import httpx
import pytest
import torch

import qvec
from qvec.backends.ionq import IonQBackend, Packed, PackingLimits, RateLimit
from qvec.emulator import Faults
from qvec.errors import AuthenticationError, CircuitTooLargeError, InputError, IonQError, JobError, JobFailedError

from .conftest import KEY, make_backend

STRATEGIES = ["sequential", "threads:3", "concurrent", "packed", Packed(limits=PackingLimits(max_circuits=3))]


def rotation_batch(rows=7, qubits=3):
    """``ry(q, t_q)`` on each qubit with per-row angles, and the exact probabilities [rows, 2**qubits]."""
    angles = torch.linspace(0.1, 3.0, rows * qubits, dtype=torch.float64).reshape(qubits, rows)
    circuit = qvec.Circuit(qubits)
    for q in range(qubits):
        circuit.ry(q, f"t{q}")
    params = {f"t{q}": angles[q] for q in range(qubits)}
    expected = torch.ones(rows, 2**qubits, dtype=torch.float64)
    for state in range(2**qubits):
        for q in range(qubits):
            half = angles[q] / 2
            expected[:, state] *= torch.sin(half) ** 2 if state >> q & 1 else torch.cos(half) ** 2
    return circuit, params, expected


def bell():
    return qvec.Circuit(2).h(0).cx(0, 1)


@pytest.mark.parametrize("strategy", STRATEGIES, ids=str)
def test_probabilities_come_back_exact_and_in_input_order(emulator, strategy):
    circuit, params, expected = rotation_batch()
    result = make_backend(emulator, strategy=strategy).probs(circuit, params, dtype=torch.complex128)
    assert result.dtype == torch.float64
    torch.testing.assert_close(result, expected, atol=1e-12, rtol=0)


def test_bell_state_through_the_circuit_api(emulator):
    probs = bell().probs(backend=make_backend(emulator))
    torch.testing.assert_close(probs, torch.tensor([[0.5, 0.0, 0.0, 0.5]]), atol=1e-6, rtol=0)


def test_shots_give_counts_that_add_up(emulator):
    backend = make_backend(emulator, shots=1000, seed=7)
    results = backend.run_circuits([bell(), qvec.Circuit(1).x(0)])
    torch.testing.assert_close(results[0], torch.tensor([0.5, 0, 0, 0.5], dtype=torch.float64))
    assert set(results.counts[0]) == {0, 3} and sum(results.counts[0].values()) == 1000
    assert 400 < results.counts[0][0] < 600
    assert results.counts[1] == {1: 1000}


def test_probs_with_shots_are_count_frequencies(emulator):
    probs = make_backend(emulator, shots=200, seed=3).probs(bell(), None)
    assert set((probs[0] * 200).round().tolist()) <= set(range(201))
    assert probs[0, 1] == probs[0, 2] == 0 and probs[0].sum().item() == pytest.approx(1.0)


def test_expectation_values_match_closed_forms(emulator):
    theta, phi = torch.tensor([0.3, 1.2, 2.5]), torch.tensor([0.7, -0.4, 1.9])
    circuit = qvec.Circuit(2).ry(0, "theta").rx(1, "phi")
    observables = ["Z0", "X0", "Y1", "Z1", "Z0 Z1", "X0 Z1", "X0 Y1"]
    values = make_backend(emulator).expval(circuit, observables, {"theta": theta, "phi": phi}, dtype=torch.complex128)
    c0, s0, c1, s1 = torch.cos(theta), torch.sin(theta), torch.cos(phi), -torch.sin(phi)
    expected = torch.stack([c0, s0, s1, c1, c0 * c1, s0 * c1, s0 * s1], dim=1).to(torch.float64)
    torch.testing.assert_close(values, expected, atol=1e-6, rtol=0)


def test_sample_draws_from_the_counts(emulator):
    samples = make_backend(emulator, seed=1).sample(bell(), 50, None, seed=2)
    assert samples.shape == (1, 50)
    assert set(samples.flatten().tolist()) <= {0, 3}


def test_a_circuit_too_wide_for_the_target_fails_before_anything_is_sent(emulator):
    before = emulator.counters()["requests_per_status"]
    with pytest.raises(CircuitTooLargeError, match=r"circuit\(s\) 1 need up to 30 qubits.*'simulator' has 29"):
        make_backend(emulator).run_circuits([bell(), qvec.Circuit(30).h(29)])
    assert emulator.counters()["requests_per_status"] == before


def test_a_rejected_key_says_so_without_echoing_it(emulator, caplog):
    secret = "wrong-secret-0042"
    backend = qvec.backends.IonQBackend(api_key=secret, base_url=emulator.base_url, env_file=None)
    assert secret not in repr(backend)
    with caplog.at_level("WARNING"), pytest.raises(AuthenticationError) as info:
        backend.probs(bell(), None)
    assert "rejected the API key" in str(info.value) and secret not in str(info.value)
    assert "could not cancel" not in caplog.text  # a refused POST created no job to cancel


def test_bad_shots_and_strategies_are_input_errors(emulator):
    with pytest.raises(InputError, match="shots must be"):
        make_backend(emulator, shots=0)
    with pytest.raises(InputError, match="unknown IonQ strategy 'fastest'"):
        make_backend(emulator, strategy="fastest")


def test_a_failed_job_names_its_code_and_circuits(start_emulator):
    emulator = start_emulator(faults=Faults(fail_rate=1.0))
    with pytest.raises(JobFailedError) as info:
        make_backend(emulator, strategy=Packed(limits=PackingLimits(max_circuits=2))).run_circuits([bell()] * 3)
    error = info.value
    assert error.code == "EmulatorInjectedFailure"
    assert error.circuits in ([0, 1], [2]) and f"circuits {'0-1' if error.circuits == [0, 1] else '2'}" in str(error)
    assert len(error.job_ids) == 1


def test_debug_logs_never_show_the_key(emulator, caplog):
    caplog.set_level("DEBUG")
    backend = make_backend(emulator, strategy="concurrent")
    backend.probs(bell(), None)
    assert caplog.text and KEY not in caplog.text and KEY not in repr(backend)


def test_exported_names():
    import qvec.backends.ionq as ionq
    import qvec.emulator as emulator

    assert qvec.backends.IonQBackend is ionq.IonQBackend
    assert set(emulator.__all__) == {"Emulator", "EmulatorConfig", "EmulatorError", "Faults"}
    assert {"IonQBackend", "Packed", "Threads", "Concurrent", "Sequential", "RetryPolicy", "PollPolicy",
            "Timeouts", "PackingLimits", "CircuitResults", "SparseDistribution"} <= set(ionq.__all__)
    assert all(hasattr(ionq, name) for name in ionq.__all__)


def test_parameters_that_require_grad_get_parameter_shift_gradients_not_silently_detached(emulator):
    backend = make_backend(emulator)
    circuit = qvec.Circuit(1).ry(0, "theta")
    theta = torch.tensor(0.3, requires_grad=True)
    value = circuit.expval(["Z0"], {"theta": theta}, backend=backend)
    value.sum().backward()
    assert value.item() == pytest.approx(math.cos(0.3), abs=1e-6)
    assert theta.grad.item() == pytest.approx(-math.sin(0.3), abs=1e-6)
    with pytest.raises(InputError, match="returns probabilities without gradients"):
        backend.probs(circuit, {"theta": theta})


def test_a_per_call_seed_makes_sampling_reproducible(emulator):
    circuit = qvec.Circuit(3).h(0).h(1).h(2)
    backend = make_backend(emulator)  # no seed of its own
    first = backend.sample(circuit, 200, None, seed=7)
    assert torch.equal(first, backend.sample(circuit, 200, None, seed=7))
    assert not torch.equal(first, backend.sample(circuit, 200, None, seed=8))
    assert backend.run_circuits([circuit], 100, seed=5).counts == backend.run_circuits([circuit], 100, seed=5).counts


def test_a_per_call_seed_seeds_a_noise_model_without_one(emulator):
    backend = make_backend(emulator, noise={"model": "aria-1"})
    circuit = qvec.Circuit(3).h(0).h(1).h(2)
    assert torch.equal(backend.sample(circuit, 300, None, seed=3), backend.sample(circuit, 300, None, seed=3))


# -- answers checked before they become results, with a scripted server ---------------------------
class ScriptedIonQ:
    """An IonQ API whose one job completes at once with ``answer``; ``children`` are its child job ids."""

    def __init__(self, answer, children=None):
        self.answer, self.children, self.requests = answer, children, []

    def job(self):
        url = "/v0.4/jobs/job-1/results/probabilities" + ("/aggregated" if self.children else "")
        job = {"id": "job-1", "status": "completed", "results": {"probabilities": {"url": url}}}
        return job | ({"child_job_ids": self.children} if self.children else {})

    def __call__(self, request):
        self.requests.append(request)
        path = request.url.path
        if request.method == "POST":
            json.loads(request.content)
            return httpx.Response(201, json={"id": "job-1", "status": "submitted"})
        if "/results/" in path:
            return httpx.Response(200, json=self.answer)
        if path.endswith("/jobs"):
            return httpx.Response(200, json={"jobs": [self.job()], "next": None})
        return httpx.Response(200, json=self.job())

    def backend(self, **options):
        return IonQBackend(api_key=KEY, base_url="https://ionq.example.test/v0.4", env_file=None,
                           transport=httpx.MockTransport(self), **options)


@pytest.mark.parametrize("bad, message", [
    ({}, "the result is empty"),
    ({"0": 0.25}, "the probabilities sum to 0.25"),
    ({"0": 0.5, "4": 0.5}, r"1 key\(s\) are not basis states of the job's 2 qubits"),
    ({"0": 0.5, "2": 0.5}, r"state\(s\) 2 set qubits beyond the circuit's 1"),
])
def test_an_invalid_answer_fails_its_circuit_and_keeps_the_others(bad, message):
    good = {"0": 0.5, "3": 0.5}
    server = ScriptedIonQ({"c0": good, "c1": bad}, children=["c0", "c1"])
    with pytest.raises(JobError, match=f"job job-1, circuit 1: {message}") as info:
        server.backend().run_circuits([bell(), qvec.Circuit(1).x(0)])
    assert info.value.job_ids == ["job-1"] and info.value.circuits == [1]
    assert dict(info.value.completed) == {0: good}


def test_aggregated_results_in_another_order_than_the_child_jobs_fail_loudly():
    server = ScriptedIonQ({"c1": {"1": 1.0}, "c0": {"0": 1.0}}, children=["c0", "c1"])
    with pytest.raises(IonQError, match="do not match its 2 child job id"):
        server.backend().run_circuits([qvec.Circuit(1), qvec.Circuit(1).x(0)])


def test_qpu_estimates_give_counts_that_add_up_to_the_shots():
    server = ScriptedIonQ({"0": 1 / 3, "1": 1 / 3, "2": 1 / 3})  # round(p * 100) would give 99 shots
    backend = server.backend(target="qpu.aria-1")
    samples = backend.sample(qvec.Circuit(2).h(0).h(1), 100, None, seed=0)
    assert sorted(torch.bincount(samples[0]).tolist()) == [33, 33, 34]
    assert backend.run_circuits([qvec.Circuit(2)], 100).counts == [{0: 34, 1: 33, 2: 33}]


def ghz(n):
    circuit = qvec.Circuit(n).h(0)
    for q in range(1, n):
        circuit.cx(0, q)
    return circuit


def test_29_qubit_results_stay_sparse(monkeypatch):
    monkeypatch.setenv("QVEC_MEMORY_BUDGET", str(2**20))  # 1 MiB: a dense 29-qubit vector is 4 GiB
    server = ScriptedIonQ({"0": 0.5, str(2**29 - 1): 0.5})
    backend = server.backend()
    values = backend.expval(ghz(29), ["Z0 Z28", "Z0", "Z28"], None, dtype=torch.complex128)
    assert values.tolist() == [[1.0, 0.0, 0.0]]
    samples = backend.sample(ghz(29), 1000, None, seed=1)
    assert set(samples.flatten().tolist()) == {0, 2**29 - 1}
    results = backend.run_circuits([ghz(29)], 400, seed=2)
    assert set(results.counts[0]) == {0, 2**29 - 1} and sum(results.counts[0].values()) == 400
    assert results.distributions[0].states.tolist() == [0, 2**29 - 1]
    with pytest.raises(InputError, match="memory budget"):
        results[0]
    sent = len(server.requests)
    with pytest.raises(InputError, match=r"1 circuit\(s\) of 29 qubits: 2.0 GiB needed"):
        backend.probs(ghz(29), None)
    assert len(server.requests) == sent  # refused before anything was sent


def test_a_backends_rate_limit_is_the_budget_its_batches_share(emulator):
    limit = RateLimit(per_second=7.0, burst=3)
    backend = make_backend(emulator, rate_limit=limit)
    context = backend._context(lambda n: None)
    assert context.rate.limit == limit and context.client().rate is context.rate
    assert backend._context(lambda n: None).rate is not context.rate  # one budget per batch, not per backend
    bell = qvec.Circuit(2).h(0).cx(0, 1)
    assert torch.allclose(backend.probs(bell).double(), torch.tensor([[0.5, 0, 0, 0.5]], dtype=torch.float64))
