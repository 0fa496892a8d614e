"""Readouts of a batched state: reduced states, quadrature densities, samples."""

import math

import pytest
import torch

from qvec.errors import InputError
from qvec.photonic import Circuit
from qvec.sim import set_memory_budget

C128 = dict(dtype=torch.complex128)


def _entangled_state():
    c = Circuit(3)
    c.coherent(0, 0.4, 0.2).squeezed(1, 0.3, 0.0).fock(2, 1).bs(0, 1, 0.5, 0.3).bs(1, 2, 0.7, -0.2).k(2, 0.3)
    return c.run(cutoff=10, **C128)


def test_reduced_state_of_a_pure_state_matches_the_mixed_partial_trace():
    state = _entangled_state()
    rho = state.density_matrix()
    mixed = type(state)(rho, n_modes=3, cutoff=10, pure=False)
    for modes in ([0], [2, 0], [1, 2]):
        assert torch.allclose(state.reduced_dm(modes), mixed.reduced_dm(modes), atol=1e-12)


def test_readouts_agree_between_pure_and_mixed_representations():
    state = _entangled_state()
    mixed = type(state)(state.density_matrix(), n_modes=3, cutoff=10, pure=False)
    for mode in range(3):
        for method in ("mean_photon", "quad_expectation", "quad_variance", "photon_number_variance"):
            args = (mode, 0.4) if method.startswith("quad") else (mode,)
            assert torch.allclose(getattr(state, method)(*args), getattr(mixed, method)(*args), atol=1e-10)


def test_quadrature_density_of_a_squeezed_displaced_state_is_the_gaussian():
    r, alpha, phi = 0.3, 0.5, 0.6
    state = Circuit(1).s(0, r, 0.0).d(0, alpha, 0.0).run(cutoff=40, **C128)
    grid = torch.linspace(-6, 6, 241, dtype=torch.float64)
    density = state.quadrature_density(0, grid, phi=phi)[0]
    mean = 2 * alpha * math.cos(phi)
    variance = math.exp(-2 * r) * math.cos(phi) ** 2 + math.exp(2 * r) * math.sin(phi) ** 2
    expected = torch.exp(-(grid - mean) ** 2 / (2 * variance)) / math.sqrt(2 * math.pi * variance)
    assert torch.allclose(density, expected, atol=1e-9)


def test_two_mode_density_of_a_product_is_the_product_and_marginal_of_entangled_sums():
    state = _entangled_state()
    grid = torch.linspace(-7, 7, 57, dtype=torch.float64)
    joint = state.quadrature_density([2, 0], grid)
    single = state.quadrature_density(2, grid)
    spacing = (grid[1] - grid[0]).item()
    assert torch.allclose(joint.sum(-1) * spacing, single, atol=1e-6)
    product = Circuit(2).coherent(0, 0.3).fock(1, 1).run(cutoff=12, **C128)
    pair = product.quadrature_density([0, 1], grid)[0]
    assert torch.allclose(pair, torch.outer(product.quadrature_density(0, grid)[0],
                                            product.quadrature_density(1, grid)[0]), atol=1e-12)


def test_quadrature_density_is_differentiable():
    def peak(r):
        state = Circuit(1).d(0, "r", 0.0).run({"r": r}, cutoff=12, **C128)
        return state.quadrature_density(0, torch.linspace(-2, 2, 9, dtype=torch.float64))

    assert torch.autograd.gradcheck(peak, (torch.tensor([0.2, 0.4], dtype=torch.float64, requires_grad=True),))


def test_photon_number_samples_are_seeded_and_follow_the_distribution():
    state = Circuit(2).fock(0, 1).fock(1, 1).bs(0, 1).run(cutoff=4)
    first, again = state.sample_fock(2000, seed=7), state.sample_fock(2000, seed=7)
    assert first.shape == (1, 2000, 2) and torch.equal(first, again)
    assert set(map(tuple, first[0].tolist())) == {(2, 0), (0, 2)}
    assert abs((first[0, :, 0] == 2).float().mean().item() - 0.5) < 0.05


def test_homodyne_samples_have_the_quadrature_statistics():
    state = Circuit(1).s(0, 0.4, 0.0).d(0, 0.5).run({}, cutoff=30, **C128)
    samples = state.sample_homodyne(0, 20000, phi=0.0, seed=3)
    assert torch.equal(samples, state.sample_homodyne(0, 20000, phi=0.0, seed=3))
    assert samples.mean().item() == pytest.approx(1.0, abs=0.03)
    assert samples.var().item() == pytest.approx(math.exp(-0.8), rel=0.05)


def test_readout_arguments_are_checked():
    state = Circuit(2).run(cutoff=3)
    with pytest.raises(InputError, match="out of range"):
        state.mean_photon(2)
    with pytest.raises(InputError, match="distinct"):
        state.reduced_dm([0, 0])
    with pytest.raises(InputError, match="shots"):
        state.sample_fock(0)
    with pytest.raises(InputError, match="mixed"):
        Circuit(1).thermal(0, 0.1).run(cutoff=3).ket()
    with pytest.raises(InputError, match="grid"):
        state.quadrature_density(0, torch.zeros(2, 2))
    with pytest.raises(InputError, match="grid must be a 1-D tensor of real points, got str"):
        state.quadrature_density(0, "abc")
    for call in (lambda: state.quad_expectation(0, "x"), lambda: state.quad_variance(0, float("nan")),
                 lambda: state.sample_homodyne(0, 10, phi="x")):
        with pytest.raises(InputError, match="phi must be a finite real angle"):
            call()
    for seed in ("x", 2**80, 1.5):
        with pytest.raises(InputError, match="seed must be an integer"):
            state.sample_fock(10, seed=seed)


def test_a_quadrature_density_too_large_for_the_budget_is_refused_before_allocating():
    state = Circuit(3).d(0, 0.3).run(cutoff=4)
    with pytest.raises(InputError, match=r"a quadrature density of 3 mode\(s\) on 4096 points x B = 1.*use fewer points"):
        state.quadrature_density([0, 1, 2], torch.linspace(-5, 5, 4096))
    mixed = Circuit(1).thermal(0, 0.2).run(cutoff=4)
    set_memory_budget(2**20)  # a density matrix's homodyne grid needs 4096**2 complex entries per row
    try:
        with pytest.raises(InputError, match=r"a quadrature density of 1 mode\(s\) on 4096 points x B = 1"):
            mixed.sample_homodyne(0, 10)
    finally:
        set_memory_budget(None)


def test_a_density_matrix_too_large_for_the_budget_is_refused_before_allocating():
    state = Circuit(8).d(0, 0.3).run(cutoff=8)  # a ket of 8**8 amplitudes; its density matrix would hold 8**16
    with pytest.raises(InputError, match=r"a density matrix of 8 mode\(s\) at cutoff 8 x B = 1.*read out fewer modes"):
        state.density_matrix()
    with pytest.raises(InputError, match=r"a density matrix of 7 mode\(s\) at cutoff 8 x B = 1"):
        state.reduced_dm(list(range(7)))
    assert state.reduced_dm([0, 1]).shape == (1, 8, 8, 8, 8)
