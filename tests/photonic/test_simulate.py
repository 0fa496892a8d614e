"""End-to-end physics of batched runs against textbook results."""

import importlib
import math
import warnings

import pytest
import torch

from qvec.errors import InputError
from qvec.photonic import Circuit, TruncationWarning

C128 = dict(dtype=torch.complex128)
simulate_module = importlib.import_module("qvec.photonic.simulate")  # the module (the package exports its function)


def test_coherent_state_photon_statistics_are_poisson():
    r = torch.tensor([0.0, 0.5, 1.0, 1.5], dtype=torch.float64)
    c = Circuit(1)
    c.d(0, "r", 0.4)
    probs = c.run({"r": r}, cutoff=25, **C128).fock_probs()
    n = torch.arange(25, dtype=torch.float64)
    mean = (r * r)[:, None]
    poisson = torch.exp(-mean) * mean**n / torch.exp(torch.lgamma(n + 1))
    assert torch.allclose(probs, poisson, atol=1e-12)


def test_squeezed_vacuum_mean_photon_is_sinh_squared():
    r = torch.tensor([0.1, 0.4, 0.8], dtype=torch.float64)
    c = Circuit(1)
    c.s(0, "r", 0.3)
    assert torch.allclose(c.run({"r": r}, cutoff=60, **C128).mean_photon(0), torch.sinh(r) ** 2, atol=1e-10)


def test_hong_ou_mandel_dip_on_a_50_50_beamsplitter():
    c = Circuit(2)
    c.fock(0, 1).fock(1, 1).bs(0, 1, math.pi / 4, 0.0)
    probs = c.run(cutoff=4, **C128).fock_probs()[0]
    assert probs[1, 1].item() == pytest.approx(0.0, abs=1e-14)
    assert probs[2, 0].item() == pytest.approx(0.5) and probs[0, 2].item() == pytest.approx(0.5)


@pytest.mark.parametrize("gate, phase", [("r", lambda n, x: n * x), ("k", lambda n, x: n * n * x)])
def test_rotation_and_kerr_phases_on_fock_superpositions(gate, phase):
    amplitudes = torch.tensor([0.6, 0.0, 0.48, 0.64], **C128)
    c = Circuit(1)
    c.ket(0, amplitudes)
    getattr(c, gate)(0, 0.37)
    ket = c.run(cutoff=4, **C128).ket()[0]
    n = torch.arange(4, dtype=torch.float64)
    assert torch.allclose(ket, amplitudes * torch.polar(torch.ones(4, dtype=torch.float64), phase(n, 0.37)))


def test_displacements_compose_up_to_a_phase():
    """D(a) D(b) = exp((a b^* - a^* b) / 2) D(a + b)."""
    a, b = 0.3 + 0.2j, -0.1 + 0.5j
    c = Circuit(1)
    c.d(0, abs(b), math.atan2(b.imag, b.real)).d(0, abs(a), math.atan2(a.imag, a.real))
    both = c.run(cutoff=30, **C128).ket()[0]
    s = a + b
    single = Circuit(1).d(0, abs(s), math.atan2(s.imag, s.real)).run(cutoff=30, **C128).ket()[0]
    phase = torch.exp(torch.tensor((a * b.conjugate() - a.conjugate() * b) / 2))
    assert torch.allclose(both, phase * single, atol=1e-12)


def test_displaced_squeezed_quadrature_mean_and_variance():
    """x_phi mean 2|alpha| cos(phi_d - phi) and variance (hbar/2)(cosh 2r - sinh 2r cos(2 phi - phi_s))."""
    r_d, phi_d, r_s, phi_s = 0.8, 0.4, 0.3, 0.5
    c = Circuit(1)
    c.s(0, r_s, phi_s).d(0, r_d, phi_d)
    state = c.run(cutoff=50, **C128)
    for phi in (0.0, 0.7, math.pi / 2):
        mean = math.sqrt(2 * 2.0) * r_d * math.cos(phi_d - phi)
        variance = math.cosh(2 * r_s) - math.sinh(2 * r_s) * math.cos(2 * phi - phi_s)
        assert state.quad_expectation(0, phi).item() == pytest.approx(mean, abs=1e-9)
        assert state.quad_variance(0, phi).item() == pytest.approx(variance, abs=1e-9)


def test_displaced_squeezed_preparation_equals_gates():
    prepared = Circuit(1).displaced_squeezed(0, 0.5, 0.1, 0.2, 0.3).run(cutoff=20, **C128).ket()
    gates = Circuit(1).s(0, 0.2, 0.3).d(0, 0.5, 0.1).run(cutoff=20, **C128).ket()
    assert torch.allclose(prepared, gates)


def test_hbar_scales_quadratures():
    for hbar in (1.0, 2.0):
        state = Circuit(1, hbar=hbar).coherent(0, 0.5, 0.0).run(cutoff=20, **C128)
        assert state.quad_expectation(0).item() == pytest.approx(math.sqrt(2 * hbar) * 0.5)
        assert state.quad_variance(0).item() == pytest.approx(hbar / 2)


def test_two_mode_squeezing_photon_numbers_are_equal_and_thermal():
    r = 0.4
    state = Circuit(2).s2(0, 1, r, 0.2).run(cutoff=30, **C128)
    probs = state.fock_probs()[0]
    assert torch.allclose(probs, torch.diag(probs.diagonal()), atol=1e-14)
    assert state.mean_photon(0).item() == pytest.approx(math.sinh(r) ** 2, abs=1e-9)


def test_mixed_batch_of_shared_and_per_row_parameters_equals_row_by_row_runs():
    c = Circuit(2)
    c.d(0, "z", 0.1).s(1, 0.2, "w").bs(0, 1, 0.7, "w").k(0, 0.05).ck(0, 1, 0.1).mz(0, 1, 0.3, "z")
    z = torch.tensor([0.1, -0.4, 0.9], dtype=torch.float64)
    batched = c.run({"z": z, "w": 0.25}, cutoff=10, **C128).ket()
    for row in range(3):
        single = c.run({"z": float(z[row]), "w": 0.25}, cutoff=10, **C128).ket()[0]
        assert torch.allclose(batched[row], single, atol=1e-12)


@pytest.mark.parametrize("batch", [1, 200])
def test_fused_and_unfused_paths_agree(batch, monkeypatch):
    """Shared two-mode gates fused into one operator, or applied one by one: the same state at any batch size
    (on the general engine, which the adjoint engine would otherwise take this circuit from)."""
    monkeypatch.setattr(simulate_module.adjoint, "supports", lambda circuit, device: False)
    c = Circuit(2)
    c.d(0, "z", 0.0).bs(0, 1, 0.3, 0.1).r(1, 0.4).s(0, 0.1, 0.0).bs(0, 1, 0.5, 0.0).k(1, 0.1)
    z = torch.linspace(-0.5, 0.5, batch, dtype=torch.float64)
    steps = {}
    real_fuse = simulate_module.fuse

    def run(two_mode: bool) -> torch.Tensor:
        def counted(found, **options):
            steps[two_mode] = real_fuse(found, **options)
            return steps[two_mode]

        monkeypatch.setattr(simulate_module, "worth_fusing_two_modes", lambda amplitudes, cutoff: two_mode)
        monkeypatch.setattr(simulate_module, "fuse", counted)
        return c.run({"z": z}, cutoff=8, **C128).ket()

    fused, unfused = run(True), run(False)
    assert len(steps[True]) < len(steps[False])  # two genuinely different sequences of operators
    assert torch.allclose(fused, unfused, atol=1e-12)


def test_loss_channel_scales_mean_photon_and_keeps_trace():
    T = torch.tensor([1.0, 0.5, 0.0], dtype=torch.float64)
    c = Circuit(2)
    c.coherent(0, 1.0, 0.0).fock(1, 2).loss(0, "T").loss(1, "T")
    state = c.run({"T": T}, cutoff=20, **C128)
    assert not state.is_pure
    assert torch.allclose(state.mean_photon(0), T * 1.0, atol=1e-9)
    assert torch.allclose(state.mean_photon(1), 2 * T, atol=1e-12)
    assert torch.allclose(state.norm(), torch.ones(3, dtype=torch.float64), atol=1e-9)


def test_thermal_state_statistics():
    state = Circuit(1).thermal(0, 0.5).run(cutoff=40, **C128)
    assert state.mean_photon(0).item() == pytest.approx(0.5, abs=1e-9)
    assert state.quad_variance(0).item() == pytest.approx(2 * 0.5 + 1, abs=1e-8)


def test_gates_on_a_mixed_state_match_the_pure_run():
    pure = Circuit(2)
    pure.coherent(0, 0.5).bs(0, 1, 0.4, 0.2).k(1, 0.3)
    mixed = Circuit(2)
    mixed.coherent(0, 0.5).loss(1, 1.0).bs(0, 1, 0.4, 0.2).k(1, 0.3)
    ket = pure.run(cutoff=10, **C128).ket()[0].reshape(100)
    rho = mixed.run(cutoff=10, **C128).density_matrix()[0].reshape(100, 100)
    assert torch.allclose(rho, torch.outer(ket, ket.conj()), atol=1e-12)


def test_gradients_through_a_run_match_finite_differences():
    c = Circuit(2)
    c.d(0, "a", 0.2).s(1, "b", 0.1).bs(0, 1, "a", "b").k(0, 0.1).loss(1, 0.9)

    def readout(a, b):
        state = c.run({"a": a, "b": b}, cutoff=8, **C128)
        return state.quad_expectation(0) + state.mean_photon(1) + state.quad_variance(1, 0.3)

    a = torch.tensor([0.3, 0.5], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(0.2, dtype=torch.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TruncationWarning)
        assert torch.autograd.gradcheck(readout, (a, b), eps=1e-6, atol=1e-6)


def test_truncation_warns_once_with_mode_cutoff_and_lost_norm():
    c = Circuit(2)
    c.d(1, "r", 0.0)
    with pytest.warns(TruncationWarning) as caught:
        state = c.run({"r": torch.tensor([0.1, 2.5])}, cutoff=5)
    assert len(caught) == 1
    warning = caught[0].message
    assert "cutoff 5" in warning.summary and "row 1" in warning.summary and "Mode 1" in warning.summary
    assert str(warning) == f"{warning.summary} {warning.advice}"
    assert "renormalize=" not in str(warning)  # no Python keyword: the CLI gives its own advice after the summary
    assert caught[0].filename == __file__  # points at the caller's line
    assert state.norm()[1] < 0.9
    with pytest.warns(TruncationWarning, match="rows were renormalized"):
        renormalized = c.run({"r": torch.tensor([0.1, 2.5])}, cutoff=5, renormalize=True)
    assert torch.allclose(renormalized.norm(), torch.ones(2), atol=1e-6)


def test_no_warning_within_tolerance():
    with warnings.catch_warnings():
        warnings.simplefilter("error", TruncationWarning)
        Circuit(1).d(0, 0.5).run(cutoff=15)


@pytest.mark.parametrize("build, message", [
    (lambda c: c.d(2, 0.1), "out of range"),
    (lambda c: c.bs(0, 0, 0.1), "twice"),
    (lambda c: c.d(0, float("nan")), "finite"),
    (lambda c: c.d(0, torch.ones(2, 2)), "1-D"),
    (lambda c: c.loss(0, 1.5), "transmissivity"),
    (lambda c: c.fock(0, -1), "non-negative"),
    (lambda c: c.d(0, 0.1).fock(0, 1), "prepare a mode before"),
    (lambda c: c.append("cubic_phase", (0,), (0.1,)), "unknown photonic operation"),
])
def test_bad_circuits_are_input_errors(build, message):
    with pytest.raises(InputError, match=message):
        build(Circuit(2))


def test_bad_runs_are_input_errors():
    c = Circuit(1)
    c.d(0, "a").s(0, "b")
    with pytest.raises(InputError, match="cutoff"):
        c.run({"a": 0.1, "b": 0.1}, cutoff=-3)
    with pytest.raises(InputError, match="same number of rows"):
        c.run({"a": torch.zeros(3), "b": torch.zeros(4)}, cutoff=4)
    with pytest.raises(InputError, match="finite"):
        c.run({"a": torch.tensor([0.1, float("nan")]), "b": 0.1}, cutoff=4)
    with pytest.raises(InputError, match="missing"):
        c.run({"a": 0.1}, cutoff=4)
    with pytest.raises(InputError, match="cutoff above"):
        Circuit(1).fock(0, 5).run(cutoff=4)
    with pytest.raises(InputError, match="T in"):
        Circuit(1).loss(0, "T").run({"T": torch.tensor([0.5, 2.0])}, cutoff=4)
    with pytest.raises(InputError, match="n_modes"):
        Circuit(0)


def test_backend_without_photonic_support_is_refused():
    with pytest.raises(InputError, match="unknown backend a object; accepted: 'local' or a backend object that declares"):
        Circuit(1).d(0, 0.1).run(cutoff=4, backend=object())


def test_per_row_kets_set_the_batch():
    kets = torch.eye(3, dtype=torch.complex128)  # |0>, |1>, |2>
    state = Circuit(2).ket(1, kets).bs(0, 1, math.pi / 2, 0.0).run(cutoff=3, **C128)
    assert state.batch_size == 3
    assert torch.allclose(state.mean_photon(0), torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64))


def test_design_contract_example():
    c = Circuit(2)
    c.d(0, "z0", 0.0); c.s(1, 0.1, 0.0); c.bs(0, 1, 0.7, 0.0); c.k(0, 0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TruncationWarning)
        state = c.run(params={"z0": torch.randn(32, generator=torch.Generator().manual_seed(0))}, cutoff=8)
    assert c.n_modes == 2
    assert state.mean_photon(0).shape == (32,) and state.mean_photon(0).dtype == torch.float32
    assert state.quad_expectation(1).shape == (32,)
    assert state.fock_probs().shape == (32, 8, 8)


def test_a_state_too_large_for_the_budget_is_refused_before_allocating():
    c = Circuit(2)
    c.d(0, 0.3).bs(0, 1, 0.3, 0.1).loss(1, 0.5)
    with pytest.raises(InputError, match=r"2 mode\(s\) at cutoff 3000 x B = 1 \(density matrices and gate matrices\).*"
                                         r"not even one row fits at this cutoff\) or the cutoff"):
        c.run(cutoff=3000)


def test_a_batch_too_large_for_the_budget_says_how_many_rows_fit():
    from qvec.sim import set_memory_budget

    c = Circuit(2)
    c.d(0, "a").bs(0, 1, 0.3, 0.1)
    set_memory_budget(2**20)
    try:
        c.run({"a": torch.zeros(10)}, cutoff=10)  # fits
        with pytest.raises(InputError, match=r"2 mode\(s\) at cutoff 10 x B = 1000 \(kets and gate matrices\).*"
                                             r"at most \d+ row\(s\) fit at this cutoff"):
            c.run({"a": torch.zeros(1000)}, cutoff=10)
    finally:
        set_memory_budget(None)


def test_a_bad_device_is_an_input_error():
    with pytest.raises(InputError, match="device 'nodevice' is not a torch device"):
        Circuit(1).d(0, 0.1).run(cutoff=5, device="nodevice")


def test_a_state_past_any_memory_is_refused_without_computing_its_size():
    with pytest.raises(InputError, match=r"100000000 mode\(s\) at cutoff 3: a state would hold 3\*\*100000000"):
        Circuit(10**8).d(0, 0.1).run(cutoff=3)


def test_a_stack_layout_checked_once_still_refuses_bad_values_and_a_grown_circuit_and_the_budget():
    """The adjoint lane checks a ParameterStack layout in full once; later calls must still catch what changes."""
    from qvec.circuit.parameters import ParameterStack
    from qvec.sim import set_memory_budget

    c = Circuit(2)
    c.d(0, "z").bs(0, 1, "theta", 0.1)
    good = ParameterStack((["theta"], torch.tensor([0.3])), (["z"], torch.tensor([[0.1], [0.2]])))
    first = c.run(good, cutoff=6).ket()
    again = c.run(ParameterStack((["theta"], torch.tensor([0.3])), (["z"], torch.tensor([[0.1], [0.2]]))), cutoff=6)
    assert torch.equal(again.ket(), first)
    with pytest.raises(InputError, match="'z'"):
        c.run(ParameterStack((["theta"], torch.tensor([0.3])), (["z"], torch.tensor([[0.1], [math.nan]]))), cutoff=6)
    c.s(1, "r", 0.0)  # the circuit grows: its new parameter is missing from the same layout
    with pytest.raises(InputError, match="missing value for parameter 'r'"):
        c.run(good, cutoff=6)
    grown = ParameterStack((["theta", "r"], torch.tensor([0.3, 0.1])), (["z"], torch.tensor([[0.1], [0.2]])))
    c.run(grown, cutoff=6)  # this layout is now checked
    set_memory_budget(1000)
    try:
        with pytest.raises(InputError, match=r"x B = 2 \(kets and gate matrices\)"):
            c.run(grown, cutoff=6)
    finally:
        set_memory_budget(None)
