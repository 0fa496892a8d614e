"""Templates: their structure (gate counts, wiring, names) and their states against a dense reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qvec.errors import InputError
from qvec.nn import (
    MeanPhoton, PhotonicLayer, angle_encoding, basic_entangler, cv_neural_net, hardware_efficient, strongly_entangling,
)

from .reference import dense_state


def cx_pairs(circuit) -> list[tuple[int, int]]:
    return [op.wires for op in circuit if op.gate == "cx"]


def random_values(names: list[str], seed: int) -> dict[str, float]:
    values = torch.rand(len(names), dtype=torch.float64, generator=torch.Generator().manual_seed(seed)) * 6.28
    return dict(zip(names, values.tolist()))


def assert_matches_dense_reference(circuit, names: list[str], seed: int) -> None:
    values = random_values(names, seed)
    params = {k: torch.tensor(v, dtype=torch.float64) for k, v in values.items()}
    got = circuit.statevector(params, dtype=torch.complex128)[0].numpy()
    np.testing.assert_allclose(got, dense_state(circuit, values), atol=1e-12)


@pytest.mark.parametrize(("entanglement", "pairs"), [
    ("ring", [(0, 1), (1, 2), (2, 3), (3, 0)]), ("linear", [(0, 1), (1, 2), (2, 3)]),
    ("all", [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]),
])
def test_hardware_efficient_has_rotations_then_its_entangler_per_layer(entanglement: str, pairs: list) -> None:
    circuit, names = hardware_efficient(4, 2, rotations=("ry", "rz"), entanglement=entanglement)
    assert len(names) == 2 * 4 * 2 and names[:3] == ["w0_0_0", "w0_0_1", "w0_1_0"]
    assert circuit.parameters == names
    counts = circuit.specs().gate_counts
    assert (counts["ry"], counts["rz"]) == (8, 8)
    assert cx_pairs(circuit) == pairs * 2
    assert_matches_dense_reference(circuit, names, seed=1)


def test_strongly_entangling_uses_a_general_rotation_and_ranged_cnots() -> None:
    circuit, names = strongly_entangling(4, 3)
    assert len(names) == 3 * 4 * 3
    assert [op.gate for op in circuit][:3] == ["rz", "ry", "rz"]
    ranges = [1, 2, 3]  # layer mod (n - 1) + 1
    assert cx_pairs(circuit) == [(q, (q + r) % 4) for r in ranges for q in range(4)]
    assert_matches_dense_reference(circuit, names, seed=2)
    custom, _ = strongly_entangling(3, 2, ranges=[2, 2])
    assert cx_pairs(custom) == [(0, 2), (1, 0), (2, 1)] * 2


@pytest.mark.parametrize(("n_qubits", "pairs"), [(1, []), (2, [(0, 1)]), (3, [(0, 1), (1, 2), (2, 0)])])
def test_basic_entangler_rings_like_its_peers(n_qubits: int, pairs: list) -> None:
    circuit, names = basic_entangler(n_qubits, 2, rotation="ry")
    assert names == [f"w{layer}_{q}" for layer in range(2) for q in range(n_qubits)]
    assert cx_pairs(circuit) == pairs * 2
    assert circuit.specs().gate_counts["ry"] == 2 * n_qubits
    assert_matches_dense_reference(circuit, names, seed=3)


def test_templates_extend_a_circuit_and_refuse_clashes() -> None:
    circuit, inputs = angle_encoding(3)
    extended, weights = basic_entangler(3, 1, circuit=circuit)
    assert extended is circuit and circuit.parameters == inputs + weights
    with pytest.raises(InputError, match="'w0_0' is already in the circuit"):
        basic_entangler(3, 1, circuit=circuit)
    with pytest.raises(InputError, match="qvec.Circuit of 4 qubits"):
        hardware_efficient(4, 1, circuit=circuit)
    with pytest.raises(InputError, match="unknown entanglement"):
        hardware_efficient(3, 1, entanglement="star")
    with pytest.raises(InputError, match="layers must be a positive integer"):
        strongly_entangling(3, 0)
    with pytest.raises(InputError, match="ranges must give one range"):
        strongly_entangling(3, 2, ranges=[1, 3])


@pytest.mark.parametrize("n_modes", [1, 2, 3])
def test_cv_neural_net_is_interferometer_squeezers_interferometer_displacements_kerr(n_modes: int) -> None:
    circuit, names = cv_neural_net(n_modes, layers=2)
    assert circuit.parameters == names
    beamsplitters = n_modes * (n_modes - 1) // 2
    per_layer = ["bs"] * beamsplitters + ["r"] * n_modes + ["s"] * n_modes + ["bs"] * beamsplitters \
        + ["r"] * n_modes + ["d", "k"] * n_modes
    assert [op.name for op in circuit] == per_layer * 2
    assert len(names) == 2 * (2 * (2 * beamsplitters + n_modes) + 2 * n_modes + 3 * n_modes)


def test_cv_neural_net_runs_in_a_photonic_layer() -> None:
    circuit, names = cv_neural_net(2)
    layer = PhotonicLayer(circuit, [], names, [MeanPhoton(0), MeanPhoton(1)], cutoff=6, seed=0)
    assert layer().shape == (2,)
    with pytest.raises(InputError, match="already in the circuit"):
        cv_neural_net(2, circuit=circuit)
