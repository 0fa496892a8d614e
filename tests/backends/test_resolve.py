"""Backends by name: "local" and "ionq" wherever a backend is accepted, clear errors otherwise."""

from __future__ import annotations

import pytest
import torch

import qvec
from qvec.backends import (IonQBackend, LocalBackend, LocalPhotonicBackend, RunsQubitBatches, resolve_backend,
                           resolve_photonic_backend)
from qvec.backends.ionq import PollPolicy
from qvec.emulator import Emulator, EmulatorConfig
from qvec.errors import AuthenticationError, InputError

KEY = "resolve-test-key-41b7"


@pytest.fixture
def no_ionq_environment(monkeypatch, tmp_path):
    """No IonQ variables and no .env file in the working directory."""
    for name in ("IONQ_API_KEY", "IONQ_BASE_URL", "IONQ_TARGET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def emulator_environment(no_ionq_environment, monkeypatch):
    """IONQ_API_KEY and IONQ_BASE_URL pointing at an emulator on 127.0.0.1 (a free port)."""
    with Emulator(EmulatorConfig(api_keys=(KEY,), latency=0.0)) as running:
        monkeypatch.setenv("IONQ_API_KEY", KEY)
        monkeypatch.setenv("IONQ_BASE_URL", running.base_url)
        yield running


def bell() -> qvec.Circuit:
    return qvec.Circuit(2).h(0).cx(0, 1)


@pytest.mark.parametrize("name", [None, "local", " Local "])
def test_local_by_name(name) -> None:
    assert isinstance(resolve_backend(name), LocalBackend)


def test_a_backend_object_passes_through() -> None:
    backend = LocalBackend()
    assert resolve_backend(backend) is backend


def test_ionq_by_name_reads_the_environment(emulator_environment) -> None:
    backend = resolve_backend("ionq")
    assert isinstance(backend, IonQBackend)
    assert backend.settings.base_url == emulator_environment.base_url


def test_ionq_by_name_without_a_key_is_the_authentication_error(no_ionq_environment) -> None:
    with pytest.raises(AuthenticationError, match="no IonQ API key"):
        bell().probs(backend="ionq")


@pytest.mark.parametrize("value, shown", [("qpu", "'qpu'"), ("", "''"), (42, "a int"), (torch.zeros(2), "a Tensor")])
def test_unknown_backends_are_input_errors_listing_the_names(value, shown: str) -> None:
    for call in (lambda: bell().probs(backend=value), lambda: bell().expval(["Z0"], backend=value),
                 lambda: bell().sample(3, backend=value)):
        with pytest.raises(InputError, match=f"unknown backend {shown}; accepted: 'local', 'ionq' or a backend object"):
            call()


def test_circuit_methods_accept_local_by_name() -> None:
    circuit = bell()
    assert torch.equal(circuit.probs(backend="local"), circuit.probs())
    assert torch.equal(circuit.expval(["Z0 Z1"], backend="local"), circuit.expval(["Z0 Z1"]))
    assert torch.equal(circuit.sample(5, seed=3, backend="local"), circuit.sample(5, seed=3))


def test_circuit_probs_on_ionq_by_name(emulator_environment) -> None:
    """The defect of issue 7 item 18: this raised a raw AttributeError."""
    probabilities = bell().probs(backend="ionq")
    assert torch.allclose(probabilities, torch.tensor([[0.5, 0.0, 0.0, 0.5]]), atol=1e-6)


def test_photonic_backends_by_name() -> None:
    assert isinstance(resolve_photonic_backend(None), LocalPhotonicBackend)
    assert isinstance(resolve_photonic_backend(" Local"), LocalPhotonicBackend)
    backend = LocalPhotonicBackend()
    assert resolve_photonic_backend(backend) is backend
    with pytest.raises(InputError, match="backend 'ionq' runs qubit circuits only"):
        resolve_photonic_backend("ionq")
    with pytest.raises(InputError, match="unknown backend 'fock'; accepted: 'local' or a backend object that declares "
                                         "qvec.backends.RunsPhotonicBatches"):
        resolve_photonic_backend("fock")
    with pytest.raises(InputError, match="unknown backend a LocalBackend"):
        resolve_photonic_backend(LocalBackend())


class _QubitMethodsOnly:
    """A qubit backend's methods, without declaring RunsQubitBatches."""

    name = "undeclared"
    probs, expval, sample = LocalBackend.probs, LocalBackend.expval, LocalBackend.sample


class _PhotonicMethodsOnly:
    """A photonic backend's method, without declaring RunsPhotonicBatches."""

    name = "undeclared"
    run_photonic = LocalPhotonicBackend.run_photonic


def test_an_object_with_the_methods_but_no_declaration_is_refused() -> None:
    """Capabilities are declared, never probed: the right method names are not enough."""
    with pytest.raises(InputError, match="unknown backend a _QubitMethodsOnly; accepted: .* declares "
                                         "qvec.backends.RunsQubitBatches"):
        resolve_backend(_QubitMethodsOnly())
    with pytest.raises(InputError, match="unknown backend a _PhotonicMethodsOnly; accepted: .* declares "
                                         "qvec.backends.RunsPhotonicBatches"):
        resolve_photonic_backend(_PhotonicMethodsOnly())
    with pytest.raises(InputError, match="declares qvec.backends.RunsPhotonicBatches"):
        qvec.photonic.Circuit(1).d(0, 0.1).run(cutoff=4, backend=_PhotonicMethodsOnly())


def test_a_registered_class_is_accepted() -> None:
    """Declaring by registration (for a class one cannot subclass) counts as a declaration."""
    class Registered(_QubitMethodsOnly):
        pass

    RunsQubitBatches.register(Registered)
    backend = Registered()
    assert resolve_backend(backend) is backend
    assert torch.equal(bell().probs(backend=backend), bell().probs())


def test_weighted_sums_on_ionq_are_the_weighted_sums_of_the_strings(emulator_environment) -> None:
    """One job per measurement basis for the distinct strings; the sums are combined on the client."""
    backend = IonQBackend(poll=PollPolicy(initial=0.01, factor=1.5, maximum=0.1), env_file=None)
    circuit = qvec.Circuit(2).ry(0, "a").rx(1, "b").cx(0, 1)
    params = {"a": torch.tensor([0.3, 1.2]), "b": torch.tensor([-0.4, 0.9])}
    with torch.no_grad():
        observables = ["0.5*Z0 Z1 - 0.2*X0", qvec.circuit.Hamiltonian([(1.5, "Y1"), (-1.0, "Z0")]), "X0 X1"]
        remote = backend.expval(circuit, observables, params, dtype=torch.complex128)
        strings = circuit.expval(["Z0 Z1", "X0", "Y1", "Z0", "X0 X1"], params, dtype=torch.complex128)
    expected = torch.stack([0.5 * strings[:, 0] - 0.2 * strings[:, 1], 1.5 * strings[:, 2] - strings[:, 3],
                            strings[:, 4]], dim=1)
    assert remote.shape == (2, 3)
    assert torch.allclose(remote, expected, atol=1e-6)


def test_photonic_run_accepts_backend_names() -> None:
    circuit = qvec.photonic.Circuit(1).d(0, 0.3, 0.0)
    local = circuit.run(cutoff=6, backend="local", dtype=torch.complex128)
    default = circuit.run(cutoff=6, dtype=torch.complex128)
    assert torch.equal(local.fock_probs(), default.fock_probs())
    with pytest.raises(InputError, match="backend 'ionq' runs qubit circuits only"):
        circuit.run(cutoff=6, backend="ionq")
    with pytest.raises(InputError, match="unknown backend 'gpu'"):
        circuit.run(cutoff=6, backend="gpu")
