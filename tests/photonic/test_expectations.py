"""The expectation node against the FockState readouts (the general path) and finite differences."""

import math

import pytest
import torch

from qvec.photonic.expectations import Form, expectations
from qvec.photonic.state import FockState


def random_ket(rows: int, n_modes: int, cutoff: int, dtype: torch.dtype, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    shape = (rows,) + (cutoff,) * n_modes
    real = torch.randn(shape, generator=generator, dtype=torch.float64)
    imag = torch.randn(shape, generator=generator, dtype=torch.float64)
    return torch.complex(real, imag).to(dtype) * 0.3  # not normalized: the forms are plain quadratic forms


FORMS = (Form(0), Form(1, 0.0, 2.0), Form(2, 0.7, 1.0), Form(0, math.pi / 2, 2.0), Form(2))


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
def test_values_match_state_readouts(dtype):
    ket = random_ket(5, 3, 4, dtype)
    got = expectations(ket, FORMS)
    expected = []
    for form in FORMS:
        state = FockState(ket, n_modes=3, cutoff=4, pure=True, hbar=form.hbar)
        expected.append(state.mean_photon(form.mode) if form.phi is None
                        else state.quad_expectation(form.mode, form.phi))
    tol = 1e-5 if dtype == torch.complex64 else 1e-12
    assert got.dtype == ket.real.dtype
    torch.testing.assert_close(got, torch.stack(expected, 1), atol=tol, rtol=tol)


def test_gradient_matches_autograd_of_state_readouts():
    ket = random_ket(3, 2, 5, torch.complex128, seed=1).requires_grad_(True)
    weights = torch.randn(3, len(FORMS[:2]), dtype=torch.float64)
    (expectations(ket, FORMS[:2]) * weights).sum().backward()
    got, ket.grad = ket.grad, None
    state = FockState(ket, n_modes=2, cutoff=5, pure=True)
    reference = torch.stack([state.mean_photon(0), state.quad_expectation(1, 0.0)], 1)
    (reference * weights).sum().backward()
    torch.testing.assert_close(got, ket.grad, atol=1e-12, rtol=1e-12)


def test_gradient_matches_finite_differences():
    ket = random_ket(2, 3, 3, torch.complex128, seed=2).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda k: expectations(k, FORMS), (ket,))


def test_cutoff_one_has_no_quadrature():
    ket = random_ket(2, 1, 1, torch.complex128)
    values = expectations(ket, (Form(0, 0.3, 2.0), Form(0)))
    assert torch.equal(values, torch.zeros(2, 2, dtype=torch.float64))
