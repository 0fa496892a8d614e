"""execute: measurements, the choice of gradient method, and backends that declare what they can do."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import torch

import qvec
from qvec.backends import DifferentiatesNatively, LocalBackend, RunsQubitBatches
from qvec.errors import InputError
from qvec.execute import Expval, Probs, Samples, execute

SRC = Path(qvec.__file__).parent


def rotations() -> qvec.Circuit:
    """A circuit with a shared parameter, a controlled rotation (four-term rule) and a tensor angle."""
    circuit = qvec.Circuit(3).ry(0, "a").rx(1, "b").crx(0, 1, "c").cx(1, 2).ry(2, "a").rzz(0, 2, "b")
    return circuit.h(2).rz(1, 0.3)


def rotation_params(requires_grad: bool = True) -> dict[str, torch.Tensor]:
    values = {"a": torch.tensor([0.3, -1.1, 2.0], dtype=torch.float64), "b": torch.tensor(0.7, dtype=torch.float64),
              "c": torch.tensor([1.3, 0.2, -0.5], dtype=torch.float64)}
    return {name: v.clone().requires_grad_(requires_grad) for name, v in values.items()}


OBSERVABLES = ["Z0", "X1 Z2", "0.5*Y1 - 0.25*Z0 Z2"]


def gradients(values: torch.Tensor, params: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    weights = torch.linspace(0.5, 1.5, values.numel(), dtype=values.dtype).reshape(values.shape)
    return list(torch.autograd.grad((values * weights).sum(), list(params.values())))


class ValuesOnly(RunsQubitBatches):
    """A backend that declares it runs qubit batches but gives values only (the local simulator, detached)."""

    name = "values-only"

    def __init__(self) -> None:
        self.expval_calls = 0

    def probs(self, circuit, params, *, dtype, device):
        return LocalBackend().probs(circuit, params, dtype=dtype, device=device).detach()

    def expval(self, circuit, observables, params, *, dtype, device):
        self.expval_calls += 1
        return LocalBackend().expval(circuit, observables, params, dtype=dtype, device=device).detach()

    def sample(self, circuit, shots, params, *, seed, dtype, device):
        return LocalBackend().sample(circuit, shots, params, seed=seed, dtype=dtype, device=device)

    def __repr__(self) -> str:
        return "ValuesOnly()"


class Undeclared:
    """Every method a qubit backend has, but no declaration of the capability."""

    name = "undeclared"
    probs, expval, sample = ValuesOnly.probs, ValuesOnly.expval, ValuesOnly.sample


# -- measurements --------------------------------------------------------------------------------
def test_measurements_match_textbook_values() -> None:
    circuit = qvec.Circuit(2).ry(0, "a").h(1).rz(1, "b")
    a, b = torch.tensor([0.4, 2.5], dtype=torch.float64), torch.tensor([1.0, -0.3], dtype=torch.float64)
    params = {"a": a, "b": b}
    values = execute(circuit, params, Expval(["Z0", "X1", "Z0 X1"]), dtype=torch.complex128)
    torch.testing.assert_close(values, torch.stack([a.cos(), b.cos(), a.cos() * b.cos()], dim=1))
    probabilities = execute(circuit, params, Probs(), dtype=torch.complex128)
    torch.testing.assert_close(probabilities.reshape(2, 2, 2).sum(1), torch.stack([(a / 2).cos() ** 2, (a / 2).sin() ** 2], 1))
    samples = execute(circuit, params, Samples(50), seed=4)
    assert samples.shape == (2, 50) and samples.dtype == torch.int64
    assert torch.equal(samples, execute(circuit, params, Samples(50), seed=4))


def test_outputs_are_float32_for_complex64_and_float64_for_complex128() -> None:
    circuit = qvec.Circuit(1).ry(0, 0.2)
    assert execute(circuit, None, Expval("Z0")).dtype == torch.float32
    assert execute(circuit, None, Expval("Z0"), shots=10, seed=1).dtype == torch.float32
    assert execute(circuit, None, Probs(), dtype=torch.complex128).dtype == torch.float64


@pytest.mark.parametrize("call, message", [
    (lambda c: execute(c, None, Expval("Z0"), diff_method="finite-diff"),
     "unknown diff_method 'finite-diff'; accepted: 'best', 'backprop', 'adjoint', 'parameter-shift', 'spsa'"),
    (lambda c: execute(c, None, "Z0"), "measurement must be Expval"),
    (lambda c: execute(qvec.photonic.Circuit(1), None, Expval("Z0")), "takes a qubit qvec.Circuit, got Circuit"),
    (lambda c: execute(c, None, Samples(5), shots=6), "shots=6 disagrees with Samples"),
    (lambda c: execute(c, None, Expval("Z0"), shots=0), "shots must be a positive integer"),
    (lambda c: execute(c, None, Expval("Z3")), "acts on qubit 3"),
    (lambda c: execute(c, None, Expval("Z0"), dtype=torch.float32), "dtype must be"),
    (lambda c: execute(c, None, Expval("Z0"), backend=Undeclared()),
     "unknown backend a Undeclared; accepted: .* declares qvec.backends.RunsQubitBatches"),
])
def test_bad_calls_are_input_errors(call, message: str) -> None:
    with pytest.raises(InputError, match=message):
        call(qvec.Circuit(1).ry(0, 0.1))


# -- gradients -----------------------------------------------------------------------------------
def test_every_exact_method_agrees_with_backprop_on_the_local_backend() -> None:
    reference_params = rotation_params()
    reference = execute(rotations(), reference_params, Expval(OBSERVABLES), diff_method="backprop",
                        dtype=torch.complex128)
    expected = gradients(reference, reference_params)
    for method in ("best", "backprop", "adjoint", "parameter-shift"):
        params = rotation_params()
        values = execute(rotations(), params, Expval(OBSERVABLES), diff_method=method, dtype=torch.complex128)
        torch.testing.assert_close(values, reference.detach())
        for got, want in zip(gradients(values, params), expected):
            torch.testing.assert_close(got, want, atol=1e-10, rtol=1e-10)


def test_spsa_with_one_parameter_is_the_central_difference_of_its_epsilon() -> None:
    """With one input every direction is +-1, so SPSA is (f(t + eps) - f(t - eps)) / (2 eps) exactly."""
    theta = torch.tensor([0.4, 1.9], dtype=torch.float64, requires_grad=True)
    values = execute(qvec.Circuit(1).ry(0, "t"), {"t": theta}, Expval("Z0"), diff_method="spsa", seed=3,
                     dtype=torch.complex128)
    (grad,) = torch.autograd.grad(values.sum(), theta)
    from qvec.grad.spsa import DEFAULT_EPSILON as eps
    torch.testing.assert_close(grad, -theta.detach().sin() * math.sin(eps) / eps)


def test_a_values_only_backend_gets_parameter_shift_gradients_in_one_call() -> None:
    backend = ValuesOnly()
    params = rotation_params()
    values = execute(rotations(), params, Expval(OBSERVABLES), backend=backend, dtype=torch.complex128)
    assert backend.expval_calls == 1  # the unshifted and every shifted row of the batch together
    reference_params = rotation_params()
    reference = execute(rotations(), reference_params, Expval(OBSERVABLES), dtype=torch.complex128)
    for got, want in zip(gradients(values, params), gradients(reference, reference_params)):
        torch.testing.assert_close(got, want, atol=1e-10, rtol=1e-10)
    assert backend.expval_calls == 1


@pytest.mark.parametrize("method", ["backprop", "adjoint"])
def test_a_values_only_backend_refuses_methods_that_need_its_internals(method: str) -> None:
    with pytest.raises(InputError, match=f"diff_method='{method}' needs .* ValuesOnly()"):
        execute(rotations(), rotation_params(), Expval("Z0"), backend=ValuesOnly(), diff_method=method)


@pytest.mark.parametrize("method", ["best", "spsa"])
def test_bad_observables_fail_before_a_values_only_backend_is_called(method: str) -> None:
    backend = ValuesOnly()
    with pytest.raises(InputError, match="acts on qubit 7"):
        execute(rotations(), rotation_params(), Expval(["Z0", "X7"]), backend=backend, diff_method=method)
    assert backend.expval_calls == 0


def test_probabilities_get_gradients_only_by_backprop() -> None:
    params = rotation_params()
    probabilities = execute(rotations(), params, Probs(), dtype=torch.complex128)
    assert probabilities.grad_fn is not None
    with pytest.raises(InputError, match="returns probabilities without gradients"):
        execute(rotations(), params, Probs(), backend=ValuesOnly())
    with pytest.raises(InputError, match="not with diff_method='parameter-shift'"):
        execute(rotations(), params, Probs(), diff_method="parameter-shift")
    with torch.no_grad():
        assert execute(rotations(), params, Probs(), backend=ValuesOnly()).shape == (3, 8)


def test_without_gradients_asked_for_no_method_is_needed() -> None:
    """Under no_grad (or with nothing requiring grad) a values-only backend is simply called."""
    backend = ValuesOnly()
    with torch.no_grad():
        execute(rotations(), rotation_params(), Expval("Z0"), backend=backend, diff_method="backprop")
    execute(rotations(), rotation_params(requires_grad=False), Expval("Z0"), backend=backend)
    assert backend.expval_calls == 2


# -- a remote backend (the IonQ emulator, exact ideal simulator) ---------------------------------
def test_ionq_parameter_shift_equals_local_autograd(ionq, emulator) -> None:
    """The issue's test: parameter shift through the emulator (exact mode) equals local autograd to 1e-5."""
    reference_params = rotation_params()
    reference = execute(rotations(), reference_params, Expval(OBSERVABLES), dtype=torch.complex128)
    expected = gradients(reference, reference_params)
    jobs = emulator.counters()["jobs_created"]
    for call in (lambda p: execute(rotations(), p, Expval(OBSERVABLES), backend=ionq, diff_method="parameter-shift",
                                   dtype=torch.complex128),
                 lambda p: rotations().expval(OBSERVABLES, p, backend=ionq, dtype=torch.complex128),
                 lambda p: ionq.expval(rotations(), OBSERVABLES, p, dtype=torch.complex128)):
        params = rotation_params()
        values = call(params)
        torch.testing.assert_close(values, reference.detach(), atol=1e-5, rtol=0)
        for got, want in zip(gradients(values, params), expected):
            torch.testing.assert_close(got, want, atol=1e-5, rtol=0)
        # Forward and backward of a step are one round: the B rows and all their shifts in one (packed) job.
        assert emulator.counters()["jobs_created"] == jobs + 1
        jobs += 1


def test_ionq_refuses_what_it_cannot_differentiate(ionq) -> None:
    params = rotation_params()
    with pytest.raises(InputError, match="diff_method='backprop' needs a backend whose results carry autograd"):
        execute(rotations(), params, Expval("Z0"), backend=ionq, diff_method="backprop")
    with pytest.raises(InputError, match="returns probabilities without gradients"):
        rotations().probs(params, backend=ionq)
    with pytest.raises(InputError, match="returns probabilities without gradients"):
        ionq.probs(rotations(), params)


# -- declared capabilities -----------------------------------------------------------------------
def test_backends_declare_their_capabilities() -> None:
    assert isinstance(LocalBackend(), RunsQubitBatches) and isinstance(LocalBackend(), DifferentiatesNatively)
    assert isinstance(ValuesOnly(), RunsQubitBatches) and not isinstance(ValuesOnly(), DifferentiatesNatively)
    assert not isinstance(Undeclared(), RunsQubitBatches)


def test_nothing_between_circuits_and_backends_probes_with_hasattr() -> None:
    files = [*(SRC / "execute").glob("*.py"), SRC / "backends" / "base.py", SRC / "backends" / "resolve.py",
             SRC / "backends" / "local.py", SRC / "backends" / "ionq" / "backend.py", SRC / "circuit" / "circuit.py",
             SRC / "photonic" / "circuit.py"]
    probing = [f"{path.name}: {line.strip()}" for path in files for line in path.read_text().splitlines()
               if re.search(r"\bhasattr\(|\bgetattr\(", line)]
    assert probing == []


def test_the_circuit_ir_imports_no_engine_backend_or_execute() -> None:
    import subprocess
    import sys
    code = ("import sys, qvec.circuit; print(sorted(m for m in sys.modules if m.split('.')[:2] in "
            "(['qvec', 'sim'], ['qvec', 'backends'], ['qvec', 'execute'], ['qvec', 'photonic'])))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize(("qubits", "rows", "expected"), [(16, 64, "_AdjointExpval"), (16, 63, None), (15, 64, None)])
def test_best_takes_adjoint_from_16_qubits_and_64_rows(qubits, rows, expected):
    """Where adjoint measured faster than backprop (bench/results/adjoint.json), "best" takes it."""
    circuit = qvec.Circuit(qubits).ry(0, "a").cx(0, qubits - 1).rx(qubits - 1, "b")
    a = torch.linspace(-1.0, 1.0, rows, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(0.4, dtype=torch.float64, requires_grad=True)
    value = execute(circuit, {"a": a, "b": b}, Expval(("Z0", f"Z{qubits - 1}")), dtype=torch.complex128)
    node = type(value.grad_fn).__name__
    assert (expected in node) if expected else "Adjoint" not in node
    value.sum().backward()
    # <Z0> = cos a; <Z_last> = cos a cos b (ry then a CNOT copying into the last qubit, then rx(b))
    assert torch.allclose(a.grad, -torch.sin(a.detach()) * (1 + torch.cos(b.detach())), atol=1e-10)
    assert torch.allclose(b.grad, -(torch.cos(a.detach()) * torch.sin(b.detach())).sum(), atol=1e-9)
