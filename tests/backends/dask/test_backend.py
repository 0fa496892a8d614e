"""DaskBackend on a two-process LocalCluster: values and gradients against the local backend's, lost workers,
bad addresses, and a missing Dask."""

import importlib
import math
import socket
import subprocess
import sys

import pytest
import torch

import qvec
from qvec.backends import RunsQubitBatches
from qvec.backends.dask import DaskBackend, connect
from qvec.errors import BackendError, InputError

from .faulty import DiesOnceBackend

F64 = torch.complex128
# Under pytest-xdist the module runs on one worker: one two-process cluster, not one per worker.
pytestmark = pytest.mark.xdist_group("dask-cluster")


def qubit_circuit(angle: torch.Tensor) -> qvec.Circuit:
    """Per-row parameter a, a shared parameter b and a tensor angle written into the circuit."""
    c = qvec.Circuit(3)
    c.h(0); c.ry(1, "a"); c.cx(0, 1); c.rz(1, "b"); c.crx(1, 2, angle); c.rxx(0, 2, "a")
    return c


def leaves():
    a = torch.linspace(-1.0, 2.0, 11, dtype=torch.float64).requires_grad_()
    b = torch.tensor(0.4, dtype=torch.float64, requires_grad=True)
    angle = torch.linspace(0.3, 0.9, 11, dtype=torch.float64).requires_grad_()
    return a, b, angle


def values_and_grads(backend, measure):
    a, b, angle = leaves()
    values = measure(qubit_circuit(angle), {"a": a, "b": b}, backend)
    weights = torch.linspace(0.5, 1.5, values.numel(), dtype=values.dtype).reshape(values.shape)
    (values * weights).sum().backward()
    return values.detach(), a.grad, b.grad, angle.grad


@pytest.mark.parametrize("shard_size", [None, 3])
def test_expval_and_its_gradients_equal_the_local_backends(client, shard_size):
    def measure(circuit, params, backend):
        return circuit.expval(["Z0", "X1 Z2", "Y2"], params=params, backend=backend, dtype=F64)

    got = values_and_grads(DaskBackend(client, shard_size=shard_size), measure)
    expected = values_and_grads(None, measure)
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e)


def test_probs_and_their_gradients_equal_the_local_backends(client):
    def measure(circuit, params, backend):
        return circuit.probs(params=params, backend=backend, dtype=F64)

    got = values_and_grads(DaskBackend(client, shard_size=4), measure)
    expected = values_and_grads(None, measure)
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e)


def layer_step(backend):
    """One forward and backward pass of a QuantumLayer (ParameterStack binding, diff_method="best")."""
    c = qvec.Circuit(3)
    for q in range(3):
        c.ry(q, f"x{q}")
    for q in range(3):
        c.rz(q, f"w{q}"); c.cx(q, (q + 1) % 3); c.ry(q, f"v{q}")
    layer = qvec.nn.QuantumLayer(c, inputs=["x0", "x1", "x2"], weights=[*(f"w{q}" for q in range(3)),
                                                                          *(f"v{q}" for q in range(3))],
                                 observables=["Z0", "Z1 Z2"], backend=backend, seed=7, dtype=F64)
    x = torch.linspace(-1, 1, 27, dtype=torch.float64).reshape(9, 3).requires_grad_()
    y = layer(x)
    (y ** 2).sum().backward()
    return y, layer.weights.grad, x.grad


def node_names(node) -> set[str]:
    """The names of the autograd nodes behind ``node``."""
    if node is None:
        return set()
    return {type(node).__name__}.union(*(node_names(child) for child, _ in node.next_functions))


def test_a_quantum_layer_trains_with_the_gradients_it_has_locally(client):
    y, weight_grad, input_grad = layer_step(DaskBackend(client, shard_size=4))
    assert "_ShardedRunBackward" in node_names(y.grad_fn)  # "best" differentiates on the workers
    expected = layer_step(None)
    torch.testing.assert_close(y.detach(), expected[0].detach())
    torch.testing.assert_close(weight_grad, expected[1])
    torch.testing.assert_close(input_grad, expected[2])


def photonic_readouts(backend):
    z = torch.linspace(0.1, 0.6, 6, dtype=torch.float64).requires_grad_()
    kerr = torch.tensor(0.05, dtype=torch.float64, requires_grad=True)
    c = qvec.photonic.Circuit(2)
    c.d(0, "z", 0.3); c.s(1, 0.1, 0.0); c.bs(0, 1, 0.7, 0.0); c.k(0, kerr)
    state = c.run(params={"z": z}, cutoff=6, dtype=F64, backend=backend)
    (state.mean_photon(0) + state.quad_expectation(1)).sum().backward()
    return state.fock_probs().detach(), z.grad, kerr.grad, (state.n_modes, state.cutoff, state.is_pure)


def test_photonic_states_and_gradients_equal_the_local_backends(client):
    got = photonic_readouts(DaskBackend(client, shard_size=4))
    expected = photonic_readouts(None)
    assert got[3] == expected[3]
    for g, e in zip(got[:3], expected[:3]):
        torch.testing.assert_close(g, e)


def test_samples_come_back_in_row_order_and_a_seed_repeats_them(client):
    c = qvec.Circuit(2)
    c.ry(0, "a"); c.x(1)
    a = torch.tensor([0.0, math.pi] * 5)  # row r measures 2 + (r odd), with certainty
    backend = DaskBackend(client, shard_size=3)
    samples = c.sample(4, params={"a": a}, backend=backend)
    assert samples.tolist() == [[2 + r % 2] * 4 for r in range(10)]
    c.ry(1, 1.0)
    first, again = (c.sample(50, params={"a": a}, backend=backend, seed=11) for _ in range(2))
    assert torch.equal(first, again)


def test_the_circuit_is_scattered_to_every_worker_once_not_per_shard_or_per_batch(client, monkeypatch):
    scatters = []
    original = client.scatter

    def counting(data, **options):
        scatters.append(options.get("broadcast"))
        return original(data, **options)

    monkeypatch.setattr(client, "scatter", counting)
    backend = DaskBackend(client, shard_size=2)
    c = qvec.Circuit(1)
    c.rx(0, "t")
    t = torch.linspace(0, 1, 8, dtype=torch.float64)
    for _ in range(2):  # two batches of four shards each
        torch.testing.assert_close(c.expval("Z0", params={"t": t}, backend=backend, dtype=F64), torch.cos(t)[:, None])
    c.ry(0, 0.5)  # a changed circuit travels again
    torch.testing.assert_close(c.expval("Z0", params={"t": t}, backend=backend, dtype=F64),
                               (torch.cos(t) * math.cos(0.5))[:, None])
    assert scatters == [True, True]


def test_a_lost_worker_costs_no_row_and_repeats_none(client, tmp_path):
    """The first shard kills its worker process mid-batch; Dask reruns it and every row comes back once."""
    marker, log = tmp_path / "killed", tmp_path / "runs.log"
    # The circuit goes to the workers connected when it is scattered: with one, the kill would take its only copy.
    client.wait_for_workers(2, timeout=120)
    a = torch.linspace(0.0, 2.0, 8, dtype=torch.float64)
    c = qvec.Circuit(2)
    c.ry(0, "a"); c.cx(0, 1); c.rx(1, "a")
    backend = DaskBackend(client, inner=DiesOnceBackend(str(marker), str(log)), shard_size=2)
    got = c.expval(["Z0", "Z1"], params={"a": a}, backend=backend, dtype=F64)
    torch.testing.assert_close(got, c.expval(["Z0", "Z1"], params={"a": a}, dtype=F64))
    assert marker.exists()
    runs = [float(line) for line in log.read_text().split()]
    assert sorted(set(runs)) == a[::2].tolist() and len(runs) == 4 + 1  # four shards, one of them twice


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_bad_scheduler_address_is_a_one_line_error_within_the_timeout():
    address = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(BackendError, match="no Dask scheduler answered") as caught:
        connect(address, timeout_s=1.0)
    assert address in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(InputError, match="not like tcp://HOST:PORT"):
        connect("nonsense", timeout_s=1.0)


def test_connect_gives_a_backend_on_the_scheduler(client):
    backend = connect(client.scheduler.address, timeout_s=10.0, shard_size=1)
    try:
        c = qvec.Circuit(1)
        c.rx(0, "t")
        t = torch.tensor([0.0, math.pi / 2, math.pi], dtype=torch.float64)
        torch.testing.assert_close(c.expval("Z0", params={"t": t}, backend=backend, dtype=F64),
                                   torch.cos(t).unsqueeze(1))
    finally:
        backend.client.close()


def test_errors_on_the_workers_reach_the_caller_as_themselves(client):
    c = qvec.Circuit(1)
    c.rx(0, "t")
    backend = DaskBackend(client)
    with pytest.raises(InputError, match="unknown parameter 'u'"):  # checked before anything is shipped
        c.expval("Z0", params={"u": [0.1]}, backend=backend)
    with pytest.raises(InputError, match="Q0"):  # checked by the worker's engine
        backend.expval(c, ["Q0"], {"t": torch.tensor([0.1, 0.2])}, dtype=torch.complex64)


def test_second_derivatives_are_refused(client):
    c = qvec.Circuit(1)
    c.rx(0, "t")
    t = torch.tensor([0.3, 0.5], requires_grad=True)
    value = c.expval("Z0", params={"t": t}, backend=DaskBackend(client)).sum()
    with pytest.raises(InputError, match="first derivatives only"):
        torch.autograd.grad(value, t, create_graph=True)


class ValuesOnly:
    """Declares that it runs qubit batches, and no gradients (as a remote backend would)."""


RunsQubitBatches.register(ValuesOnly)


@pytest.mark.parametrize("options, message", [
    ({"shard_size": 0}, "shard_size must be a positive integer"),
    ({"inner": ValuesOnly()}, "differentiates natively"),
    ({"inner": "local"}, "differentiates natively"),
])
def test_bad_options_are_refused(client, options, message):
    with pytest.raises(InputError, match=message):
        DaskBackend(client, **options)
    with pytest.raises(InputError, match="takes a dask.distributed.Client"):
        DaskBackend("tcp://127.0.0.1:8786")


def test_import_qvec_and_a_local_run_never_import_dask():
    code = ("import sys, qvec; c = qvec.Circuit(1); c.h(0); c.probs(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_without_dask_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    for name in [m for m in sys.modules if m.startswith("qvec.backends.dask")]:
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(BackendError, match=r"pip install 'qvec\[dask\]'"):
        importlib.import_module("qvec.backends.dask")


def test_truncation_is_reported_for_the_whole_batch_as_a_local_run_reports_it(client):
    c = qvec.photonic.Circuit(1)
    c.d(0, "r", 0.0)
    r = torch.tensor([0.1, 0.1, 0.2, 0.1, 0.1, 1.5, 0.1], dtype=torch.float64)  # row 5 loses norm at cutoff 4
    reports = []
    for backend in (DaskBackend(client, shard_size=2), None):
        with pytest.warns(qvec.photonic.TruncationWarning) as caught:
            state = c.run(params={"r": r}, cutoff=4, dtype=F64, backend=backend, renormalize=True)
        reports.append(([str(w.message) for w in caught], state.fock_probs()))
    assert reports[0][0] == reports[1][0] and "1 of 7 row(s)" in reports[0][0][0] and "row 5" in reports[0][0][0]
    torch.testing.assert_close(reports[0][1], reports[1][1])



def photonic_layer_step(backend):
    """One forward and backward pass of a PhotonicLayer on the CV-GAN generator circuit (ParameterStack binding)."""
    from qvec.bench.circuits import gan_generator_circuit
    from qvec.nn.photonic import MeanPhoton, PhotonicLayer, QuadratureMean

    circuit, inputs, weights = gan_generator_circuit(2, 1)
    layer = PhotonicLayer(circuit, inputs, weights, [MeanPhoton(0), QuadratureMean(1)], cutoff=5, backend=backend,
                          seed=3, dtype=F64)
    z = torch.linspace(-0.3, 0.3, 14, dtype=torch.float64).reshape(7, 2).requires_grad_()
    y = layer(z)
    (y ** 2).sum().backward()
    return y.detach(), layer.weights.grad, z.grad


def test_a_photonic_layer_trains_with_the_gradients_it_has_locally(client):
    got, expected = photonic_layer_step(DaskBackend(client, shard_size=3)), photonic_layer_step(None)
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e)


def test_parameter_shift_and_shots_run_their_rows_on_the_workers(client):
    """Methods that re-evaluate the circuit use the backend for values only: the same numbers as locally."""
    c = qvec.Circuit(2)
    c.ry(0, "a"); c.cx(0, 1); c.rx(1, "b")
    backend = DaskBackend(client, shard_size=5)

    def shifted(on):
        a = torch.linspace(0.1, 1.0, 6, dtype=torch.float64).requires_grad_()
        value = qvec.execute.execute(c, {"a": a, "b": 0.3}, qvec.execute.Expval(["Z0 Z1", "Z1"]), backend=on,
                                     diff_method="parameter-shift", dtype=F64)
        value.sum().backward()
        return value.detach(), a.grad

    for g, e in zip(shifted(backend), shifted(None)):
        torch.testing.assert_close(g, e)
    # Shots: every basis's rows go to the backend as one batch, sampled on the workers.
    ones = qvec.Circuit(2)
    ones.x(0); ones.x(1); ones.rx(0, "t")
    t = torch.zeros(4)
    estimate = qvec.execute.execute(ones, {"t": t}, qvec.execute.Expval(["Z0", "Z0 Z1"]), backend=backend, shots=50,
                                    seed=1)
    assert estimate.tolist() == [[-1.0, 1.0]] * 4


def test_the_workers_compute_on_the_device_given_and_results_come_back_to_the_callers(client):
    c = qvec.Circuit(1)
    c.rx(0, "t")
    t = torch.tensor([0.2, 0.4], dtype=torch.float64)
    got = c.expval("Z0", params={"t": t}, backend=DaskBackend(client, device="cpu"), dtype=F64, device="cpu")
    assert got.device.type == "cpu"
    torch.testing.assert_close(got, torch.cos(t)[:, None])


class InterruptedClient:
    """Stands in for a client whose gather is interrupted (Ctrl-C) or whose shard killed its workers too often."""

    def __init__(self, error: BaseException) -> None:
        self.error, self.cancelled = error, []

    def gather(self, futures):
        raise self.error

    def cancel(self, futures):
        self.cancelled.extend(futures)


def test_ctrl_c_cancels_the_shards_still_on_the_cluster():
    from qvec.backends.dask.backend import _ShardedBatch
    client = InterruptedClient(KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        _ShardedBatch(client, None, None, None, [], None)._gather(["shard 0", "shard 1"])
    assert client.cancelled == ["shard 0", "shard 1"]


def test_a_shard_that_kills_its_workers_too_often_is_a_backend_error():
    from distributed import KilledWorker

    from qvec.backends.dask.backend import _ShardedBatch
    client = InterruptedClient(KilledWorker("run_shard-1", None, 3))
    with pytest.raises(BackendError, match="'run_shard-1' was given up after 4 workers died"):
        _ShardedBatch(client, None, None, None, [], None)._gather(["shard 0"])


def test_the_package_exports_the_backend_and_connect_and_qvec_backends_hands_them_on():
    import qvec.backends.dask as package
    assert sorted(package.__all__) == ["DEFAULT_CONNECT_TIMEOUT_S", "DEFAULT_WORKER_TIMEOUT_S", "DaskBackend", "connect"]
    assert qvec.backends.DaskBackend is package.DaskBackend and qvec.backends.dask is package
    assert {"DaskBackend", "dask"} <= set(dir(qvec.backends))
