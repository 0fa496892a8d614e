"""Encoders: the states they prepare against textbook formulas and a dense reference."""

from __future__ import annotations

import math
from functools import reduce

import numpy as np
import pytest
import torch

from qvec.errors import InputError
from qvec.nn import (
    QuantumLayer, amplitude_angles, amplitude_encoding, angle_encoding, data_reuploading, iqp_encoding, iqp_features,
)

from .reference import dense_state


def states(circuit, names, features: torch.Tensor) -> torch.Tensor:
    """qvec's states for rows of input values, complex128."""
    return circuit.statevector({n: features[:, i] for i, n in enumerate(names)}, dtype=torch.complex128)


@pytest.mark.parametrize("rotation", ["rx", "ry", "rz"])
def test_angle_encoding_is_the_product_state_of_the_rotations(rotation: str) -> None:
    x = torch.tensor([[0.3, -1.2, 2.5], [1.0, 0.0, -0.4]], dtype=torch.float64)
    circuit, names = angle_encoding(3, rotation=rotation)
    assert names == ["x0", "x1", "x2"]
    for row, state in zip(x.tolist(), states(circuit, names, x)):
        c, s = [math.cos(v / 2) for v in row], [math.sin(v / 2) for v in row]
        single = {"rx": lambda q: np.array([c[q], -1j * s[q]]), "ry": lambda q: np.array([c[q], s[q]]),
                  "rz": lambda q: np.array([c[q] - 1j * s[q], 0])}[rotation]
        expected = reduce(np.kron, [single(q) for q in reversed(range(3))])  # qubit 0 least significant
        np.testing.assert_allclose(state.numpy(), expected, atol=1e-12)


@pytest.mark.parametrize("n_qubits", [1, 2, 3, 4])
def test_amplitude_encoding_prepares_x_over_its_norm(n_qubits: int) -> None:
    x = torch.randn(5, 2**n_qubits, dtype=torch.float64, generator=torch.Generator().manual_seed(n_qubits))
    x[0, : 2**n_qubits // 2] = 0.0  # a block of zeros: angles of a norm-zero branch
    circuit, names = amplitude_encoding(n_qubits)
    assert len(names) == 2**n_qubits - 1
    counts = circuit.specs().gate_counts
    assert counts["ry"] == 2**n_qubits - 1 and counts.get("cx", 0) == 2**n_qubits - 2
    got = states(circuit, names, amplitude_angles(x))
    torch.testing.assert_close(got, (x / x.norm(dim=1, keepdim=True)).to(torch.complex128), atol=1e-12, rtol=0)


@pytest.mark.parametrize("n_qubits", [1, 2, 3])
def test_complex_amplitude_encoding_prepares_x_over_its_norm_up_to_a_global_phase(n_qubits: int) -> None:
    x = torch.randn(4, 2**n_qubits, dtype=torch.complex128, generator=torch.Generator().manual_seed(n_qubits))
    circuit, names = amplitude_encoding(n_qubits, complex_amplitudes=True)
    counts = circuit.specs().gate_counts
    assert counts["ry"] == counts["rz"] == 2**n_qubits - 1 and counts.get("cx", 0) == 2 * (2**n_qubits - 2)
    got = states(circuit, names, amplitude_angles(x))
    expected = x / x.norm(dim=1, keepdim=True)
    overlap = (expected.conj() * got).sum(dim=1)  # |<expected|got>| = 1 exactly when equal up to a phase
    torch.testing.assert_close(overlap.abs(), torch.ones(4, dtype=torch.float64), atol=1e-12, rtol=0)
    torch.testing.assert_close(got, expected * (overlap / overlap.abs())[:, None], atol=1e-12, rtol=0)


def test_amplitude_angles_take_any_leading_shape_and_refuse_bad_features() -> None:
    x = torch.randn(2, 3, 8, dtype=torch.float64)
    assert amplitude_angles(x).shape == (2, 3, 7)
    torch.testing.assert_close(amplitude_angles(x)[1, 2], amplitude_angles(x[1, 2]))
    with pytest.raises(InputError, match="2\\*\\*n features"):
        amplitude_angles(torch.ones(6))
    with pytest.raises(InputError, match="all-zero"):
        amplitude_angles(torch.zeros(2, 4))
    with pytest.raises(InputError, match="floating-point or complex"):
        amplitude_angles(torch.ones(4, dtype=torch.int64))


def test_an_amplitude_encoded_layer_differentiates_the_features_as_finite_differences() -> None:
    circuit, inputs = amplitude_encoding(2)
    circuit.ry(0, "w0").cx(0, 1).ry(1, "w1")
    layer = QuantumLayer(circuit, inputs, ["w0", "w1"], ["Z0", "Z1", "X0 X1"], seed=3, dtype=torch.complex128)
    x = torch.tensor([[0.3, -0.8, 0.5, 0.1], [1.0, 0.2, -0.3, 0.7]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: layer(amplitude_angles(x)), (x,))


def test_iqp_encoding_equals_the_dense_reference_with_its_features() -> None:
    x = torch.tensor([[0.3, -1.1, 0.7], [2.0, 0.5, -0.2]], dtype=torch.float64)
    circuit, names = iqp_encoding(3, reps=2)
    assert names == ["x0", "x1", "x2", "x0_1", "x0_2", "x1_2"]
    features = iqp_features(x)
    torch.testing.assert_close(features[:, 3:], torch.stack([x[:, 0] * x[:, 1], x[:, 0] * x[:, 2], x[:, 1] * x[:, 2]], 1))
    counts = circuit.specs().gate_counts
    assert (counts["h"], counts["rz"], counts["rzz"]) == (6, 6, 6)
    for row, state in zip(features.tolist(), states(circuit, names, features)):
        np.testing.assert_allclose(state.numpy(), dense_state(circuit, dict(zip(names, row))), atol=1e-12)


def test_data_reuploading_uploads_the_same_inputs_in_every_layer() -> None:
    circuit, inputs, weights = data_reuploading(3, layers=2)
    assert inputs == ["x0", "x1", "x2"] and len(weights) == 2 * 3 * 3
    uploads = [op.angles[0] for op in circuit if op.angles and op.angles[0] in inputs]
    assert uploads == inputs * 2
    assert circuit.specs().gate_counts["cx"] == 2 * 3
    values = dict(zip(inputs + weights, torch.linspace(-2, 2, len(inputs + weights), dtype=torch.float64).tolist()))
    got = circuit.statevector({k: torch.tensor(v, dtype=torch.float64) for k, v in values.items()}, dtype=torch.complex128)
    np.testing.assert_allclose(got[0].numpy(), dense_state(circuit, values), atol=1e-12)


def test_encoders_refuse_bad_arguments() -> None:
    with pytest.raises(InputError, match="rotation must be one of"):
        angle_encoding(2, rotation="h")
    with pytest.raises(InputError, match="already in the circuit"):
        angle_encoding(2, circuit=angle_encoding(2)[0])
    with pytest.raises(InputError, match="reps must be a positive integer"):
        iqp_encoding(2, reps=0)
    with pytest.raises(InputError, match="n_qubits must be a positive integer"):
        amplitude_encoding(0)
