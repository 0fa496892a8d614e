"""Measurement bases: grouping Pauli strings, rotating into a basis, parities of outcomes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qvec.circuit import Circuit, parse_observable
from qvec.circuit.bases import measurement_groups, parity_signs, qubit_mask, rotated_to_basis

from .reference import X, Y, Z, circuit_unitary


def strings(*texts: str) -> list:
    return [parse_observable(t, 4) for t in texts]


def test_qubit_wise_commuting_strings_share_a_basis() -> None:
    groups = measurement_groups(strings("Z0", "Z0 Z1", "X2", "X0", "Y1 X2", "I0"))
    # Z0, Z0 Z1 and X2 fit one basis; X0 conflicts with Z0 and opens a second; Y1 X2 joins it; I fits the first.
    assert groups == [({0: "Z", 1: "Z", 2: "X"}, [0, 1, 2, 5]), ({0: "X", 1: "Y", 2: "X"}, [3, 4])]


def _expectation(state: np.ndarray, pauli: np.ndarray) -> float:
    return float(np.real(np.conj(state) @ pauli @ state))


def test_rotating_to_a_basis_turns_each_letter_into_z() -> None:
    """<psi|P|psi> equals <psi'|Z|psi'> after the rotation, for P = X and Y (dense reference)."""
    prepare = Circuit(1).ry(0, 0.7).rz(0, 0.4)
    state = circuit_unitary(prepare)[:, 0]
    for letter, matrix in (("X", X), ("Y", Y), ("Z", Z)):
        rotated = circuit_unitary(rotated_to_basis(prepare, {0: letter}))[:, 0]
        assert np.isclose(_expectation(rotated, Z), _expectation(state, matrix))
    assert len(prepare) == 2  # the original is left alone


def test_parity_signs_are_minus_one_to_the_parity_of_the_string_qubits() -> None:
    outcomes = torch.tensor([[0b000, 0b001, 0b011, 0b101, 0b111]])
    assert parity_signs(outcomes, qubit_mask(parse_observable("Z0", 3))).tolist() == [[1, -1, -1, -1, -1]]
    assert parity_signs(outcomes, qubit_mask(parse_observable("X0 Y2", 3))).tolist() == [[1, -1, -1, 1, 1]]
    assert parity_signs(outcomes, qubit_mask(parse_observable("I0", 3))).tolist() == [[1, 1, 1, 1, 1]]


@pytest.mark.parametrize("mask", [1, 0b1010, 2**29 - 1, 2**40 + 2**7 + 1, 2**62 + 5])
def test_parity_signs_of_wide_masks_count_every_bit(mask: int) -> None:
    outcomes = torch.randint(0, 2**63 - 1, (200,), generator=torch.Generator().manual_seed(mask % 1000))
    expected = [1 - 2 * (bin(v & mask).count("1") % 2) for v in outcomes.tolist()]
    assert parity_signs(outcomes, mask).tolist() == expected
