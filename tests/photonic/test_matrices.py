"""Gate matrices against dense references (matrix exponentials at a much larger cutoff, truncated)."""

import cmath
import math

import pytest
import torch

from qvec.photonic import matrices

F64 = dict(dtype=torch.float64)


def ladder(cutoff: int) -> torch.Tensor:
    """The annihilation operator a as a complex128 ``[c, c]`` matrix."""
    return torch.diag(torch.arange(1, cutoff, **F64).sqrt(), 1).to(torch.complex128)


def dense_gate(generator: torch.Tensor, big: int, cutoff: int, n_modes: int) -> torch.Tensor:
    """exp(generator) at the large cutoff ``big``, truncated to ``cutoff`` per mode: the reference."""
    full = torch.linalg.matrix_exp(generator).reshape([big] * (2 * n_modes))
    return full[tuple(slice(0, cutoff) for _ in range(2 * n_modes))]


@pytest.fixture
def two_mode_ladders():
    """(N, a, b) at a large cutoff N, as ``[N^2, N^2]`` matrices."""
    big = 36
    a = ladder(big)
    eye = torch.eye(big, dtype=torch.complex128)
    return big, torch.kron(a, eye), torch.kron(eye, a)


def _t(*values):
    return torch.tensor(values, **F64)


@pytest.mark.parametrize("r, phi", [(0.0, 0.0), (1.3, 0.7), (2.5, -2.0)])
def test_displacement_matches_dense_reference_at_cutoff_30(r, phi):
    a = ladder(160)
    alpha = r * cmath.exp(1j * phi)
    reference = dense_gate(alpha * a.mH - alpha.conjugate() * a, 160, 30, 1)
    built = matrices.displacement(_t(r), _t(phi), 30, torch.complex128)[0]
    assert torch.allclose(built, reference, atol=1e-10)


@pytest.mark.parametrize("r, phi", [(0.4, 0.3), (0.8, -1.1)])
def test_squeezing_matches_dense_reference_at_cutoff_30(r, phi):
    a = ladder(240)
    z = r * cmath.exp(1j * phi)
    reference = dense_gate((z.conjugate() * a @ a - z * a.mH @ a.mH) / 2, 240, 30, 1)
    built = matrices.squeezing(_t(r), _t(phi), 30, torch.complex128)[0]
    assert torch.allclose(built, reference, atol=1e-10)


def test_beamsplitter_matches_dense_reference(two_mode_ladders):
    big, a, b = two_mode_ladders
    theta, phi = 0.6, 0.4
    generator = theta * (cmath.exp(1j * phi) * a @ b.mH - cmath.exp(-1j * phi) * a.mH @ b)
    built = matrices.beamsplitter(_t(theta), _t(phi), 12, torch.complex128)[0]
    assert torch.allclose(built, dense_gate(generator, big, 12, 2), atol=1e-12)


def test_two_mode_squeezing_matches_dense_reference(two_mode_ladders):
    big, a, b = two_mode_ladders
    z = 0.5 * cmath.exp(0.9j)
    generator = z * a.mH @ b.mH - z.conjugate() * a @ b
    built = matrices.two_mode_squeezing(_t(0.5), _t(0.9), 12, torch.complex128)[0]
    assert torch.allclose(built, dense_gate(generator, big, 12, 2), atol=1e-10)


def test_mach_zehnder_is_sf_decomposition():
    """MZ(phi_in, phi_ex) = BS(pi/4, pi/2) R_1(phi_in) BS(pi/4, pi/2) R_1(phi_ex), as Strawberry Fields defines it."""
    c, phi_in, phi_ex = 6, 0.7, -0.4
    bs = matrices.beamsplitter(_t(math.pi / 4), _t(math.pi / 2), c, torch.complex128)[0].reshape(c * c, c * c)
    n = torch.arange(c, **F64)

    def r_first(phi):
        return torch.diag(torch.polar(torch.ones(c * c, **F64), phi * n.repeat_interleave(c)))

    expected = bs @ r_first(phi_in) @ bs @ r_first(phi_ex)
    built = matrices.mach_zehnder(_t(phi_in), _t(phi_ex), c, torch.complex128)[0].reshape(c * c, c * c)
    assert torch.allclose(built, expected, atol=1e-12)


def test_diagonal_gates_are_phases():
    n = torch.arange(5, **F64)
    assert torch.allclose(matrices.rotation(_t(0.3), 5, torch.complex128)[0], torch.exp(0.3j * n))
    assert torch.allclose(matrices.kerr(_t(0.2), 5, torch.complex128)[0], torch.exp(0.2j * n**2))
    assert torch.allclose(matrices.cross_kerr(_t(0.1), 5, torch.complex128)[0], torch.exp(0.1j * n[:, None] * n[None, :]))


@pytest.mark.parametrize("build", ["displacement", "squeezing"])
def test_truncated_single_mode_gates_are_unitary_in_the_low_photon_block(build):
    c = 80  # squeezed columns have long tails; the low block is exact once the tails fit
    gate = getattr(matrices, build)(_t(0.5, 0.3), _t(0.2, -0.5), c, torch.complex128)
    low = (gate.mH @ gate)[:, :10, :10]
    assert torch.allclose(low, torch.eye(10, dtype=torch.complex128).expand_as(low), atol=1e-10)


def test_passive_two_mode_gates_are_unitary_within_photon_number():
    c = 8
    bs = matrices.beamsplitter(_t(0.3), _t(1.0), c, torch.complex128)[0]
    # photons are conserved: every input with p + q < c stays inside the truncated space
    for p in range(c):
        for q in range(c - p):
            assert abs(bs[:, :, p, q].abs().square().sum().item() - 1) < 1e-12


def test_batched_rows_equal_one_by_one():
    r, phi = _t(0.1, 0.5, 1.2), _t(0.0, 0.3, -0.7)
    batched = matrices.beamsplitter(r, phi, 6, torch.complex128)
    for row in range(3):
        single = matrices.beamsplitter(r[row:row + 1], phi[row:row + 1], 6, torch.complex128)[0]
        assert torch.allclose(batched[row], single)


def test_complex64_gates_match_complex128_at_cutoff_30():
    """The recurrences run in float64 whatever the output dtype, so complex64 is a clean rounding."""
    d64 = matrices.displacement(_t(1.3), _t(0.7), 30, torch.complex64)[0]
    d128 = matrices.displacement(_t(1.3), _t(0.7), 30, torch.complex128)[0]
    assert (d64.to(torch.complex128) - d128).abs().max() < 1e-6


def test_loss_superoperator_matches_kraus_sum():
    c, T = 5, 0.7
    channel = matrices.loss_superoperator(_t(T), c, torch.complex128)[0]
    rho = torch.randn(c, c, dtype=torch.complex128)
    rho = rho @ rho.mH
    expected = torch.zeros_like(rho)
    for k in range(c):
        kraus = torch.zeros(c, c, dtype=torch.complex128)
        for n in range(k, c):
            kraus[n - k, n] = math.sqrt(math.comb(n, k) * T ** (n - k) * (1 - T) ** k)
        expected += kraus @ rho @ kraus.mH
    assert torch.allclose(torch.einsum("manb,nb->ma", channel, rho), expected, atol=1e-12)


@pytest.mark.parametrize("build, two_mode", [("displacement", False), ("squeezing", False),
                                              ("beamsplitter", True), ("two_mode_squeezing", True)])
def test_gradients_match_finite_differences(build, two_mode):
    c = 6 if two_mode else 10
    weights = torch.randn([c] * (4 if two_mode else 2), dtype=torch.complex128, generator=torch.Generator().manual_seed(1))

    def loss(r, phi):
        gate = getattr(matrices, build)(r, phi, c, torch.complex128)[0]
        return (gate * weights).real.sum() + gate.abs().square()[..., 0].sum()

    r, phi = _t(0.45).requires_grad_(), _t(0.3).requires_grad_()
    assert torch.autograd.gradcheck(loss, (r, phi), eps=1e-6, atol=1e-6)


def test_gradient_is_finite_at_zero_parameters():
    r = torch.zeros(1, **F64, requires_grad=True)
    matrices.displacement(r, torch.zeros(1, **F64), 8, torch.complex128).abs().sum().backward()
    assert torch.isfinite(r.grad).all()


def test_beamsplitters_compose_exactly_at_cutoff_30():
    """Photon number is conserved, so on every block with fewer than c photons the truncated
    matrices must compose exactly: BS(a, phi) BS(b, phi) = BS(a + b, phi), and each block is unitary."""
    c, phi = 30, 0.4
    first, second, both = (matrices.beamsplitter(_t(theta), _t(phi), c, torch.complex128)[0].reshape(c * c, c * c)
                           for theta in (0.3, 0.5, 0.8))
    n = torch.arange(c)
    low = ((n[:, None] + n[None, :]) < c).reshape(-1)
    assert torch.allclose((second @ first)[low][:, low], both[low][:, low], atol=1e-12)
    block = both[low][:, low]
    assert torch.allclose(block.mH @ block, torch.eye(int(low.sum()), dtype=torch.complex128), atol=1e-12)


def _lossy_readouts(T: torch.Tensor) -> torch.Tensor:
    """Mean photon, P(n = 1) and Var(x) of a coherent state after loss T (float64): slopes finite on [0, 1]."""
    from qvec.photonic import Circuit

    circuit = Circuit(1)
    circuit.coherent(0, 0.8, 0.3).loss(0, "T")
    state = circuit.run({"T": T.reshape(1)}, cutoff=15, dtype=torch.complex128)
    return torch.stack([state.mean_photon(0)[0], state.fock_probs()[0, 1], state.quad_variance(0)[0]])


@pytest.mark.parametrize("T", [0.0, 0.35, 1.0])
def test_loss_gradient_matches_finite_differences_at_the_ends_and_inside(T):
    """T = 1 (where a trainable loss starts) and T = 0 used to give NaN; one-sided differences at the ends."""
    point = torch.tensor(T, **F64, requires_grad=True)
    got = torch.stack([torch.autograd.grad(value, point, retain_graph=True)[0] for value in _lossy_readouts(point)])
    h = 1e-4
    if T == 0.0:  # second-order one-sided differences, inside [0, 1]
        f0, f1, f2 = (_lossy_readouts(torch.tensor(T + i * h, **F64)) for i in range(3))
        expected = (-3 * f0 + 4 * f1 - f2) / (2 * h)
    elif T == 1.0:
        f0, f1, f2 = (_lossy_readouts(torch.tensor(T - i * h, **F64)) for i in range(3))
        expected = (3 * f0 - 4 * f1 + f2) / (2 * h)
    else:
        expected = (_lossy_readouts(torch.tensor(T + h, **F64)) - _lossy_readouts(torch.tensor(T - h, **F64))) / (2 * h)
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-6)
    # The textbook values: <n> = T |alpha|^2 and a coherent state stays coherent (Var x = hbar / 2).
    torch.testing.assert_close(got[0], torch.tensor(0.64, **F64), atol=1e-9, rtol=0)
    torch.testing.assert_close(got[2], torch.tensor(0.0, **F64), atol=1e-9, rtol=0)
