"""IonQBackend against the emulator: results in input order, counts, expectation values, errors.

References are textbook: product states of rotations, whose probabilities and Pauli
expectations have closed forms, and the Bell state.
"""

import math

import pytest
import torch

import qvec
from qvec.backends.ionq import Packed, PackingLimits
from qvec.emulator import Faults
from qvec.errors import AuthenticationError, CircuitTooLargeError, InputError, IonQError, JobFailedError

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
    assert set(emulator.__all__) == {"Emulator", "EmulatorConfig", "Faults"}
    assert {"IonQBackend", "Packed", "Threads", "Concurrent", "Sequential", "RetryPolicy", "PollPolicy",
            "Timeouts", "PackingLimits"} <= set(ionq.__all__)
    assert all(hasattr(ionq, name) for name in ionq.__all__)


def test_parameters_that_require_grad_are_refused_not_silently_detached(emulator):
    backend = make_backend(emulator)
    circuit = qvec.Circuit(1).ry(0, "theta")
    theta = torch.tensor(0.3, requires_grad=True)
    with pytest.raises(IonQError, match="does not compute gradients"):
        circuit.expval(["Z0"], {"theta": theta}, backend=backend)
    with torch.no_grad():
        value = circuit.expval(["Z0"], {"theta": theta}, backend=backend)
    assert value.item() == pytest.approx(math.cos(0.3), abs=1e-6)
