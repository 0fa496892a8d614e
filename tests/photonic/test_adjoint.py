"""The adjoint engine gives the general engine's states and gradients, and finite differences' gradients."""

import importlib
import random

import pytest
import torch

from qvec.circuit.parameters import ParameterStack
from qvec.photonic import Circuit
from qvec.photonic.expectations import Form
from qvec.photonic.truncation import TruncationWarning

simulate_module = importlib.import_module("qvec.photonic.simulate")
adjoint = importlib.import_module("qvec.photonic.adjoint")
CPU = torch.device("cpu")


def _general(monkeypatch, circuit, params, **options):
    """The same run on the general engine (the adjoint one switched off)."""
    with monkeypatch.context() as patch:
        patch.setattr(simulate_module.adjoint, "supports", lambda c, d: False)
        return circuit.run(params, **options)


def _random_circuit(seed: int, n_modes: int = 3) -> tuple[Circuit, list[str]]:
    """Fock and vacuum preparations, then D, S, R, K, BS (neighbours, far apart, reversed) on names and floats."""
    rng = random.Random(seed)
    circuit, names = Circuit(n_modes), []
    circuit.fock(n_modes - 1, 1)

    def angle() -> object:
        if rng.random() < 0.3:
            return rng.uniform(-0.4, 0.4)
        names.append(f"p{len(names)}")
        return names[-1]

    circuit.d(0, "z0", angle()).d(1, "z1")
    names += ["z0", "z1"]
    for _ in range(10):
        kind = rng.choice(["d", "s", "r", "k", "bs"])
        if kind == "bs":
            first, second = rng.sample(range(n_modes), 2)
            circuit.bs(first, second, angle(), angle())
        elif kind in ("d", "s"):
            getattr(circuit, kind)(rng.randrange(n_modes), angle(), angle())
        else:
            getattr(circuit, kind)(rng.randrange(n_modes), angle())
    return circuit, list(dict.fromkeys(names))


def _params(names: list[str], rows: int, seed: int) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    params = {}
    for name in names:
        shape = (rows,) if name.startswith("z") else ()
        params[name] = (0.3 * torch.randn(shape, generator=generator, dtype=torch.float64)).requires_grad_()
    return params


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("dtype,tol", [(torch.complex128, 1e-12), (torch.complex64, 2e-6)])
def test_states_and_gradients_equal_the_general_engine(seed, dtype, tol, monkeypatch):
    circuit, names = _random_circuit(seed)
    assert adjoint.supports(circuit, CPU)
    params = _params(names, rows=4, seed=seed)
    options = dict(cutoff=6, dtype=dtype, truncation_tol=1.0)
    fast, general = circuit.run(params, **options).ket(), _general(monkeypatch, circuit, params, **options).ket()
    assert torch.allclose(fast, general, rtol=0, atol=tol)
    weights = torch.randn(fast.shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)
    losses = [(ket * weights).real.sum() + (ket.abs() ** 2 * weights.real).sum() for ket in (fast, general)]
    grads = [torch.autograd.grad(loss, list(params.values())) for loss in losses]
    for mine, theirs in zip(*grads):
        assert torch.allclose(mine, theirs.to(mine.dtype), rtol=0, atol=50 * tol)


def test_gradients_match_finite_differences():
    circuit, names = _random_circuit(7, n_modes=2)
    shared = [n for n in names if not n.startswith("z")]
    weights = 0.3 * torch.randn(len(shared), dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    rows = 0.3 * torch.randn(3, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))

    def ket(w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        stack = ParameterStack((shared, w), (["z0", "z1"], x))
        return circuit.run(stack, cutoff=5, dtype=torch.complex128, truncation_tol=1.0).ket()

    assert torch.autograd.gradcheck(ket, (weights.requires_grad_(), rows.requires_grad_()), eps=1e-6, atol=1e-7)


def test_parameter_stack_and_dict_give_the_same_run():
    circuit, names = _random_circuit(3, n_modes=2)
    params = _params(names, rows=5, seed=0)
    shared = [n for n in names if not n.startswith("z")]
    stack = ParameterStack((shared, torch.stack([params[n] for n in shared])),
                           (["z0", "z1"], torch.stack([params["z0"], params["z1"]], 1)))
    options = dict(cutoff=6, dtype=torch.complex128, truncation_tol=1.0)
    assert torch.allclose(circuit.run(stack, **options).ket(), circuit.run(params, **options).ket(), atol=1e-14)


def test_float32_parameters_get_float32_gradients():
    circuit = Circuit(2)
    circuit.d(0, "z").bs(0, 1, "t", 0.2).s(1, "t")
    z = torch.tensor([0.1, 0.2], requires_grad=True)
    t = torch.tensor(0.3, requires_grad=True)
    circuit.run({"z": z, "t": t}, cutoff=6).mean_photon(1).sum().backward()
    assert z.grad.dtype == torch.float32 and t.grad.dtype == torch.float32
    assert torch.isfinite(z.grad).all() and torch.isfinite(t.grad)


@pytest.mark.parametrize("build", [
    lambda c: c.loss(0, 0.5), lambda c: c.mz(0, 1, 0.1, 0.2), lambda c: c.s2(0, 1, 0.1), lambda c: c.ck(0, 1, 0.1),
    lambda c: c.d(0, torch.tensor(0.1)),
])
def test_other_operations_stay_on_the_general_engine(build):
    circuit = Circuit(2)
    build(circuit)
    assert not adjoint.supports(circuit, CPU)


def test_a_circuit_grown_after_a_run_is_planned_again():
    circuit = Circuit(1)
    circuit.d(0, "r")
    first = circuit.run({"r": 0.3}, cutoff=5, dtype=torch.complex128).ket()
    circuit.s(0, 0.2)
    grown = circuit.run({"r": 0.3}, cutoff=5, dtype=torch.complex128, truncation_tol=1.0).ket()
    assert not torch.allclose(first, grown)
    assert adjoint.supports(circuit, CPU)
    circuit.loss(0, 0.5)
    assert not adjoint.supports(circuit, CPU)


def test_only_states_up_to_the_adjoint_size_or_below_the_fusion_size_take_the_adjoint_engine(monkeypatch):
    """At M = 2, cutoff 8 the adjoint engine runs up to 2**15 amplitudes (B = 512); at cutoff 20 the general engine
    fuses two-mode gates only from B c^2 >= c^4 (B = 400), so the adjoint engine runs below that."""
    calls = []
    real = simulate_module.adjoint.evolve
    monkeypatch.setattr(simulate_module.adjoint, "evolve", lambda *a: calls.append((a[3], a[4])) or real(*a))
    circuit = Circuit(2)
    circuit.d(0, "z").bs(0, 1, 0.3, 0.1)
    for rows in (1, 512, 513):
        circuit.run({"z": torch.zeros(rows)}, cutoff=8)
    for rows in (399, 400):
        circuit.run({"z": torch.zeros(rows)}, cutoff=20)
    assert calls == [(1, 8), (512, 8), (399, 20)]


@pytest.mark.parametrize("first", ["s", "d", "bs"])
def test_per_row_gates_on_untouched_modes_equal_the_general_engine(first, monkeypatch):
    """A per-row one-mode gate first on its mode reads one column (the prepared level); a later one, a per-row
    two-mode gate, or one after a shared gate takes the full product: states and gradients as the general engine."""
    circuit = Circuit(3)
    circuit.fock(2, 2).d(1, "a", 0.2)
    if first == "bs":
        circuit.bs(0, 2, "z", "w")
    else:
        getattr(circuit, first)(2, "z", "w")
    circuit.s(0, "z", 0.1).bs(1, 2, "a", 0.3).d(2, "w", "z").r(0, "a").k(2, "a")
    rows = 3
    params = {"z": (0.3 * torch.randn(rows, dtype=torch.float64, generator=torch.Generator().manual_seed(1))),
              "w": (0.2 * torch.randn(rows, dtype=torch.float64, generator=torch.Generator().manual_seed(2))),
              "a": torch.tensor(0.4, dtype=torch.float64)}
    params = {name: value.requires_grad_() for name, value in params.items()}
    options = dict(cutoff=5, dtype=torch.complex128, truncation_tol=1.0)
    fast, general = circuit.run(params, **options).ket(), _general(monkeypatch, circuit, params, **options).ket()
    assert torch.allclose(fast, general, rtol=0, atol=1e-12)
    weights = torch.randn(fast.shape, generator=torch.Generator().manual_seed(3), dtype=torch.complex128)
    grads = [torch.autograd.grad((ket * weights).real.sum(), list(params.values())) for ket in (fast, general)]
    for mine, theirs in zip(*grads):
        assert torch.allclose(mine, theirs, rtol=0, atol=1e-11)


def test_rotations_and_kerr_folded_into_one_mode_gates_equal_the_general_engine(monkeypatch):
    """Shared R and K next to a D or S on their mode are folded into it (F = L G R); a per-row phase, a second phase
    on a taken side, and phases next to a beamsplitter stay gates. States and gradients match the general engine."""
    circuit = Circuit(2)
    circuit.d(0, "z", 0.1).k(0, "a").r(0, "b")  # K folds after the per-row D; R has no free side left
    circuit.r(1, "b").s(1, "c", "a").k(1, "c")  # R before S, K after it
    circuit.bs(0, 1, "a", "b").r(1, "z").r(0, "c").d(1, "b", "c")  # per-row R stays; R(c) on mode 0 has no D/S
    params = {"z": 0.3 * torch.randn(3, dtype=torch.float64, generator=torch.Generator().manual_seed(4)),
              **{n: torch.tensor(v, dtype=torch.float64) for n, v in (("a", 0.3), ("b", -0.2), ("c", 0.25))}}
    params = {name: value.requires_grad_() for name, value in params.items()}
    options = dict(cutoff=6, dtype=torch.complex128, truncation_tol=1.0)
    fast, general = circuit.run(params, **options).ket(), _general(monkeypatch, circuit, params, **options).ket()
    assert torch.allclose(fast, general, rtol=0, atol=1e-12)
    plan = next(p for p in adjoint._PLANS[circuit].values() if isinstance(p, adjoint.Plan))
    assert [g.name for g in plan.gates] == ["d", "r", "s", "bs", "r", "r", "d"]
    weights = torch.randn(fast.shape, generator=torch.Generator().manual_seed(5), dtype=torch.complex128)
    grads = [torch.autograd.grad((ket * weights).real.sum() + (ket.abs() ** 2).sum(), list(params.values()))
             for ket in (fast, general)]
    for mine, theirs in zip(*grads):
        assert torch.allclose(mine, theirs, rtol=0, atol=1e-11)


def _stack(names: list[str], params: dict[str, torch.Tensor]) -> ParameterStack:
    shared = [n for n in names if not n.startswith("z")]
    return ParameterStack((shared, torch.stack([params[n] for n in shared])),
                          (["z0", "z1"], torch.stack([params["z0"], params["z1"]], 1)))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("dtype,tol", [(torch.complex128, 1e-12), (torch.complex64, 2e-6)])
def test_readouts_through_one_node_equal_the_readouts_of_the_general_engines_state(seed, dtype, tol, monkeypatch):
    """``expect`` on a stack (the circuit and its <x_phi>, <n> as one adjoint node) against FockState's own reads of
    the general engine's ket: values and gradients to the shared and per-row values."""
    circuit, names = _random_circuit(seed)
    params = _params(names, rows=4, seed=seed)
    forms = (Form(0), Form(1, 0.0, 2.0), Form(2, 0.7, 2.0), Form(1))
    options = dict(cutoff=6, dtype=dtype, truncation_tol=1.0)
    fast = simulate_module.expect(circuit, _stack(names, params), forms, **options)
    state = _general(monkeypatch, circuit, params, **options)
    general = torch.stack([state.mean_photon(f.mode) if f.phi is None else state.quad_expectation(f.mode, f.phi)
                           for f in forms], -1)
    assert fast.shape == (4, len(forms))
    assert torch.allclose(fast.double(), general.double(), rtol=0, atol=10 * tol)
    weights = torch.randn(fast.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    grads = [torch.autograd.grad((values.double() * weights).sum(), list(params.values())) for values in (fast, general)]
    for mine, theirs in zip(*grads):
        assert torch.allclose(mine, theirs, rtol=0, atol=100 * tol)


def test_readouts_of_shared_values_only_match_finite_differences():
    """Without per-row values the node runs one row (gradcheck of the readouts)."""
    circuit, names = _random_circuit(5, n_modes=2)
    forms = (Form(0, 0.3, 2.0), Form(1))

    def readouts(w: torch.Tensor) -> torch.Tensor:
        stack = ParameterStack((names, w))
        return simulate_module.expect(circuit, stack, forms, cutoff=6, dtype=torch.complex128, truncation_tol=1.0)

    weights = 0.3 * torch.randn(len(names), dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    assert readouts(weights).shape == (1, 2)
    assert torch.autograd.gradcheck(readouts, (weights.requires_grad_(),), eps=1e-6, atol=1e-7)


def test_readouts_through_one_node_still_warn_of_truncation_and_renormalize_on_the_state():
    """The node's rows' norms are checked as ``simulate``'s ket is (the same warning, once, at the caller's line);
    ``renormalize`` reads the renormalized state instead."""
    circuit = Circuit(1).d(0, "a", 0.0)
    stack = ParameterStack((["a"], torch.tensor([2.0], dtype=torch.float64)))
    with pytest.warns(TruncationWarning, match="cutoff 5: 1 of 1 row.*Mode 0 holds") as caught:
        lost = simulate_module.expect(circuit, stack, (Form(0),), cutoff=5, dtype=torch.complex128)
    assert len(caught) == 1 and caught[0].filename == __file__  # once, at the caller's line
    state = circuit.run({"a": torch.tensor(2.0, dtype=torch.float64)}, cutoff=5, dtype=torch.complex128,
                        renormalize=True, truncation_tol=1.0)
    kept = simulate_module.expect(circuit, stack, (Form(0),), cutoff=5, dtype=torch.complex128, renormalize=True,
                                  truncation_tol=1.0)
    assert torch.allclose(kept[:, 0], state.mean_photon(0), atol=1e-12)
    assert float(lost) < float(kept)  # the unrenormalized ket lost norm above the cutoff
