"""Decoding IonQ answers: validation, sparse distributions, counts that add up, child-id matching.

References are independent of the code under test: hand-written distributions and their
marginals, the multinomial mean and standard deviation, and ``p * shots``.
"""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from qvec.backends.ionq.results import (
    SUM_TOLERANCE, SparseDistribution, decode_distribution, estimate_counts, sample_counts, split_results,
)
from qvec.errors import InputError, IonQError

WHERE = "job j-7, circuit 3"


def decode(raw, n_qubits=2, job_qubits=2, exact=True):
    return decode_distribution(raw, n_qubits, job_qubits, exact=exact, where=WHERE)


def sparse(mapping, n_qubits):
    states = sorted(mapping)
    return SparseDistribution(n_qubits, torch.tensor(states, dtype=torch.int64),
                              torch.tensor([mapping[s] for s in states], dtype=torch.float64))


# -- validation (item 2) -----------------------------------------------------------------------------
@pytest.mark.parametrize("raw, message", [
    ({}, "the result is empty"),
    ({"0": 0.25}, "sum to 0.25"),
    ({"0": 0.5, "3": 0.25}, "sum to 0.75"),
    ({"0": 0.5, "4": 0.5}, "not basis states of the job's 2 qubits.*'4'"),
    ({"0": 0.5, "-1": 0.5}, "'-1'"),
    ({"0": 0.5, "0x1": 0.5}, "'0x1'"),
    ({"0": 0.5, " 1": 0.5}, "' 1'"),
    ({"0": 0.5, "1.0": 0.5}, "'1.0'"),
    ({"0": 0.5, "1" * 40: 0.5}, "not basis states"),
    ({"0": 1.5, "1": -0.5}, "not finite non-negative.*'1': -0.5"),
    ({"0": float("nan"), "1": 1.0}, "not finite non-negative.*nan"),
    ({"0": float("inf")}, "not finite non-negative"),
    ({"0": "1.0"}, "not finite non-negative.*'1.0'"),
    ({"0": True}, "not finite non-negative"),
    ({"0": 0.5, "\u00b2": 0.5}, "not basis states.*'\u00b2'"),  # a digit, but not a decimal ASCII one
    ({"0": 0.5, "": 0.5}, "not basis states.*''"),
    ({"0": 0.5, 1: 0.5}, "not basis states.*1"),
    ({"0": 1.0, "1": 10**400}, "not finite non-negative"),
    ([0.5, 0.5], "not a map"),
])
def test_invalid_answers_are_errors_naming_the_job_and_circuit(raw, message):
    with pytest.raises(IonQError, match=message) as info:
        decode(raw)
    assert str(info.value).startswith(f"{WHERE}: ")


def test_a_sum_within_the_tolerance_is_accepted_as_given():
    off = SUM_TOLERANCE / 2
    result = decode({"0": 0.5, "3": 0.5 - off})
    assert result.states.tolist() == [0, 3] and result.probabilities.tolist() == [0.5, 0.5 - off]
    with pytest.raises(IonQError, match="sum to"):
        decode({"0": 0.5, "3": 0.5 - 2 * SUM_TOLERANCE})


def test_valid_answers_keep_only_nonzero_states_in_ascending_order():
    result = decode({"3": 0.25, "0": 0.75, "1": 0.0, "2": 0})
    assert result.n_qubits == 2 and result.states.tolist() == [0, 3] and result.probabilities.tolist() == [0.75, 0.25]
    assert result.dense().tolist() == [0.75, 0.0, 0.0, 0.25]


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.integers(0, 2**6 - 1), st.integers(1, 1000), min_size=1, max_size=40), st.booleans())
def test_decoding_equals_an_entry_by_entry_reading(weights, as_ints):
    """Keys and values parsed on whole arrays give what reading each entry gives (ints too, and unsorted keys)."""
    total = sum(weights.values())
    raw = {str(k): (v if as_ints and total == 1 else v / total) for k, v in weights.items()}
    result = decode(raw, n_qubits=6, job_qubits=6)
    expected = {k: float(v) for k, v in weights.items()} if as_ints and total == 1 else {k: v / total for k, v in weights.items()}
    assert result.states.tolist() == sorted(expected)
    assert result.probabilities.tolist() == [expected[k] for k in sorted(expected)]


def test_numpy_numbers_and_padded_keys_are_read_as_their_values():
    import numpy as np
    result = decode({"00": np.float64(0.25), "3": 0.75})
    assert result.states.tolist() == [0, 3] and result.probabilities.tolist() == [0.25, 0.75]


def test_the_ideal_simulator_may_not_set_qubits_beyond_a_packed_circuit():
    # A 1-qubit circuit in a 3-qubit job: its idle qubits 1 and 2 stay |0> on an ideal simulator.
    assert decode({"0": 0.5, "1": 0.5}, n_qubits=1, job_qubits=3).dense().tolist() == [0.5, 0.5]
    with pytest.raises(IonQError, match=r"state\(s\) 5 set qubits beyond the circuit's 1"):
        decode({"0": 0.5, "5": 0.5}, n_qubits=1, job_qubits=3)


def test_noisy_answers_are_marginalized_onto_the_circuit_qubits():
    # Readout errors on the idle qubits: the circuit's distribution is the marginal over its own qubit.
    raw = {"0": 0.4, "1": 0.3, "2": 0.1, "5": 0.15, "6": 0.05}
    result = decode(raw, n_qubits=1, job_qubits=3, exact=False)
    assert result.states.tolist() == [0, 1]
    torch.testing.assert_close(result.probabilities, torch.tensor([0.4 + 0.1 + 0.05, 0.3 + 0.15], dtype=torch.float64))


# -- matching a multi-circuit answer to its circuits (item 9) ------------------------------------------
def test_aggregated_answers_follow_the_child_job_ids():
    raw = {"c1": {"0": 1.0}, "c2": {"1": 1.0}}
    assert split_results(raw, 2, "parent", ["c1", "c2"]) == [{"0": 1.0}, {"1": 1.0}]
    assert split_results(raw, 2, "parent") == [{"0": 1.0}, {"1": 1.0}]


@pytest.mark.parametrize("children, message", [
    (["c2", "c1"], r"at position 0: key 'c1', child 'c2'"),
    (["c1", "c3"], r"at position 1: key 'c2', child 'c3'"),
    (["c1", "c2", "c3"], r"2 key\(s\) do not match its 3 child job id\(s\).*key none, child 'c3'"),
])
def test_aggregated_keys_that_differ_from_the_child_job_ids_fail_loudly(children, message):
    with pytest.raises(IonQError, match=f"job parent: .*{message}"):
        split_results({"c1": {"0": 1.0}, "c2": {"1": 1.0}}, len(children), "parent", children)


def test_a_wrong_number_of_results_is_an_error():
    with pytest.raises(IonQError, match=r"job p returned 1 result\(s\) for 2 circuit\(s\)"):
        split_results({"c1": {"0": 1.0}}, 2, "p")


def test_a_single_circuit_answer_is_passed_on_for_validation():
    assert split_results({}, 1, "p") == [{}]
    assert split_results({"0": 0.5, "1": 0.5}, 1, "p") == [{"0": 0.5, "1": 0.5}]


# -- counts that add up (item 3) -----------------------------------------------------------------------
def test_thirds_give_counts_that_add_up():
    # round(p * shots) gives 33 + 33 + 33 = 99 here.
    assert estimate_counts(sparse({0: 1 / 3, 1: 1 / 3, 2: 1 / 3}, 2), 100) == {0: 34, 1: 33, 2: 33}


@settings(max_examples=300, deadline=None)
@given(weights=st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=40).filter(lambda w: sum(w) > 0),
       shots=st.integers(1, 1_000_000))
def test_largest_remainder_counts_sum_to_shots_and_stay_within_one_of_p_shots(weights, shots):
    total = math.fsum(weights)
    distribution = sparse({state: w / total for state, w in enumerate(weights)}, 6)
    counts = estimate_counts(distribution, shots)
    assert sum(counts.values()) == shots
    assert all(c > 0 for c in counts.values()) and set(counts) <= set(range(len(weights)))
    for state, weight in enumerate(weights):
        assert abs(counts.get(state, 0) - weight / total * shots) < 1 + 1e-9


# -- sparse sampling at any width (item 16) ----------------------------------------------------------
def test_sampling_30_qubits_draws_from_the_nonzero_states_only():
    probabilities = {0: 0.1, 12_345: 0.2, 2**29 + 5: 0.3, 2**30 - 1: 0.4}
    shots = 200_000
    counts = sample_counts(sparse(probabilities, 30), shots, torch.Generator().manual_seed(11))
    assert sum(counts.values()) == shots and set(counts) == set(probabilities)
    for state, p in probabilities.items():  # each count is binomial(shots, p): within 5 standard deviations
        assert abs(counts[state] - shots * p) < 5 * math.sqrt(shots * p * (1 - p))


def test_sampling_is_reproducible_with_a_seeded_generator():
    distribution = sparse({1: 0.5, 2**28: 0.5}, 29)
    first = sample_counts(distribution, 1000, torch.Generator().manual_seed(3))
    assert first == sample_counts(distribution, 1000, torch.Generator().manual_seed(3))
    assert first != sample_counts(distribution, 1000, torch.Generator().manual_seed(4))


def test_parity_expectations_need_no_dense_vector():
    # GHZ on 29 qubits: Z0 Z28 = 1, Z0 = 0; and a product state |1> on qubit 28 only: Z28 = -1.
    ghz = sparse({0: 0.5, 2**29 - 1: 0.5}, 29)
    assert ghz.parity_expectation(1 | 1 << 28) == 1.0 and ghz.parity_expectation(1) == 0.0
    assert sparse({2**28: 1.0}, 29).parity_expectation(1 << 28) == -1.0


def test_a_dense_vector_over_the_memory_budget_is_refused(monkeypatch):
    monkeypatch.setenv("QVEC_MEMORY_BUDGET", str(2**20))
    with pytest.raises(InputError, match=r"1 circuit\(s\) of 29 qubits: 4.0 GiB needed; the memory budget is 1.0 MiB"):
        sparse({0: 1.0}, 29).dense()
    assert sparse({0: 1.0}, 17).dense().sum().item() == 1.0  # 1 MiB fits exactly


def test_frequencies_of_counts():
    result = SparseDistribution.from_counts({5: 30, 1: 10}, 3)
    assert result.states.tolist() == [1, 5] and result.probabilities.tolist() == [0.25, 0.75]
