"""An interferometer's one-photon transfer matrix is the unitary it was given."""

import numpy as np
import pytest
import torch

from qvec.errors import InputError
from qvec.photonic import Circuit
from qvec.photonic.interferometer import decompose_unitary


def _random_unitary(size: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.normal(size=(size, size)) + 1j * rng.normal(size=(size, size)))
    return q * (np.diag(r) / np.abs(np.diag(r)))


@pytest.mark.parametrize("size, seed", [(2, 0), (3, 1), (4, 2)])
def test_single_photon_amplitudes_are_the_unitary_columns(size, seed):
    unitary = _random_unitary(size, seed)
    kets = torch.zeros(size, *([2] * size), dtype=torch.complex128)
    for mode in range(size):
        kets[(mode,) + tuple(1 if m == mode else 0 for m in range(size))] = 1.0
    circuit = Circuit(size).ket(list(range(size)), kets).interferometer(list(range(size)), unitary)
    ket = circuit.run(cutoff=2, dtype=torch.complex128).ket()
    for source in range(size):
        for target in range(size):
            index = (source,) + tuple(1 if m == target else 0 for m in range(size))
            assert ket[index].item() == pytest.approx(unitary[target, source], abs=1e-12)


def test_decomposition_uses_rotations_and_nearest_neighbour_beamsplitters():
    elements = decompose_unitary(_random_unitary(4, 3))
    assert sum(e.theta is None for e in elements) == 4
    assert sum(e.theta is not None for e in elements) <= 6


def test_interferometer_on_a_subset_of_modes_in_any_order():
    unitary = _random_unitary(2, 4)
    swapped = Circuit(3).fock(2, 1).interferometer([2, 0], unitary).run(cutoff=2, dtype=torch.complex128).ket()[0]
    assert swapped[0, 0, 1].item() == pytest.approx(unitary[0, 0], abs=1e-12)
    assert swapped[1, 0, 0].item() == pytest.approx(unitary[1, 0], abs=1e-12)


def test_bad_unitaries_are_input_errors():
    with pytest.raises(InputError, match="not unitary"):
        Circuit(2).interferometer([0, 1], np.ones((2, 2)))
    with pytest.raises(InputError, match="2x2"):
        Circuit(2).interferometer([0, 1], np.eye(3))
    with pytest.raises(InputError, match="constant"):
        Circuit(2).interferometer([0, 1], torch.eye(2, requires_grad=True))
