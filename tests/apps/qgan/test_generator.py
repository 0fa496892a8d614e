"""The quantum generator: readout shapes, the coherent-state density, gradients against finite differences."""

from __future__ import annotations

import pytest
import torch
from scipy.stats import norm

from qvec.apps.qgan.generator import Grid, QuantumGenerator
from qvec.errors import InputError


def _generator(dim: int = 1, **kwargs: object) -> QuantumGenerator:
    grid = Grid(-4.0, 4.0, 33 if dim == 1 else 17, dim)
    return QuantumGenerator(grid, **{"layers": 1, "cutoff": 8, "seed": 1, **kwargs})


@pytest.mark.parametrize("dim, ancillas, readout", [(1, 0, "density"), (1, 1, "sample"), (2, 0, "mean"),
                                                    (2, 1, "density")])
def test_shapes(dim: int, ancillas: int, readout: str) -> None:
    generator = _generator(dim, ancillas=ancillas, readout=readout)
    rng = torch.Generator().manual_seed(0)
    state = generator.run(generator.latent(5, rng))
    assert state.batch_size == 5 and state.n_modes == dim + ancillas
    probabilities = generator.cell_probabilities(state)
    assert probabilities.shape == (5, generator.grid.points**dim)
    assert probabilities.sum(1).tolist() == pytest.approx([1.0] * 5, abs=1e-5)
    assert generator.means(state).shape == (5, dim)
    assert generator.samples(state, 5, rng).shape == (5, dim)
    assert generator.sample(7, rng, chunk=3).shape == (7, dim)
    assert generator.lost_norm(state).shape == (5,)


def test_without_latent_noise_one_state_gives_every_sample() -> None:
    generator = _generator(latent_dim=0)
    rng = torch.Generator().manual_seed(0)
    assert generator.latent(4, rng) is None
    assert generator.run(None).batch_size == 1
    assert generator.sample(10, rng).shape == (10, 1)


def test_identity_layers_give_the_coherent_states_gaussian_density() -> None:
    # Zero weights make every CV layer the identity: latent z displaces the vacuum to alpha = z, whose
    # x density (hbar = 2) is N(2z, 1).
    generator = _generator(dtype=torch.complex128, cutoff=20)
    with torch.no_grad():
        generator.layer.weights.zero_()
    latent = torch.tensor([[-0.5], [0.0], [0.75]], dtype=torch.float64)
    probabilities = generator.cell_probabilities(generator.run(latent))
    axis = generator.grid.axis
    for row, z in enumerate(latent[:, 0].tolist()):
        expected = norm.pdf(axis.numpy(), loc=2 * z, scale=1.0)
        assert probabilities[row].tolist() == pytest.approx((expected / expected.sum()).tolist(), abs=1e-7)
    assert generator.means(generator.run(latent))[:, 0].tolist() == pytest.approx([-1.0, 0.0, 1.5], abs=1e-9)


@pytest.mark.parametrize("readout", ["density", "mean"])
def test_gradient_matches_finite_differences(readout: str) -> None:
    generator = _generator(dtype=torch.complex128, readout=readout, ancillas=1)
    latent = 2 * torch.rand(3, 1, generator=torch.Generator().manual_seed(2), dtype=torch.float64) - 1
    weights = torch.linspace(-1, 1, generator.grid.points, dtype=torch.float64)

    def loss() -> torch.Tensor:
        state = generator.run(latent)
        if readout == "mean":
            return generator.means(state).square().sum()
        return (generator.cell_probabilities(state) * weights).sum() + generator.lost_norm(state).sum()

    parameter = generator.layer.weights
    (gradient,) = torch.autograd.grad(loss(), parameter)
    step = 1e-6
    for index in range(0, parameter.numel(), 5):
        with torch.no_grad():
            parameter[index] += step
            up = float(loss())
            parameter[index] -= 2 * step
            down = float(loss())
            parameter[index] += step
        assert float(gradient[index]) == pytest.approx((up - down) / (2 * step), abs=1e-6, rel=1e-5)


def test_bad_settings_are_input_errors() -> None:
    with pytest.raises(InputError, match="--readout 'x'"):
        _generator(readout="x")
    with pytest.raises(InputError, match="--latent-dim 3"):
        _generator(latent_dim=3)
    with pytest.raises(InputError, match="--readout mean needs --latent-dim >= 1"):
        _generator(readout="mean", latent_dim=0)


def test_a_density_that_left_the_grid_is_an_error_not_a_renormalized_guess() -> None:
    from qvec.errors import QvecError

    generator = QuantumGenerator(Grid(10.0, 14.0, 17, 1), layers=1, cutoff=8, seed=1)  # the vacuum sits at 0
    with pytest.raises(QvecError, match="left the grid \\[10, 14\\]"):
        generator.cell_probabilities(generator.run(torch.zeros(2, 1)))
