"""The peer libraries ``qvec bench qubit/cv --compare`` runs on the same circuits, weights and inputs as qvec.

Each builder takes the workload, the inputs ``x [B, n]`` and the layer's weights (float64 numpy arrays, from
qvec's seeded layer) and returns a ``PeerRun``: the outputs for cross-checks and the training step timed
(forward and backward of the summed outputs with respect to the weights). Each is imported only when called:
the peers run in their own processes (``qvec.bench.engines``), never next to a qvec measurement.

- PennyLane ``default.qubit``, torch interface, backprop with parameter broadcasting: complex128 states.
- TensorCircuit-NG on JAX: ``jit(value_and_grad)`` of the summed outputs of ``vmap`` over rows; complex64.
- Piquasso ``PureFockSimulator`` on JAX: ``jit(value_and_grad)`` over ``vmap`` over rows; float32 parameters,
  complex64 states. Its cutoff bounds the total photon number (qvec's bounds each mode's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .workloads import Workload

__all__ = ["PEERS", "PeerRun", "pennylane_run", "piquasso_run", "tensorcircuit_run"]


@dataclass(frozen=True)
class PeerRun:
    """A peer's outputs ``[B, outputs]`` (for cross-checks), its timed step, and the precision it runs at."""

    precision: str
    values: Callable[[], np.ndarray]
    step: Callable[[], None]
    compiles: bool  # a JIT peer: its first step includes the compile


def pennylane_run(workload: Workload, x: np.ndarray, weights: np.ndarray) -> PeerRun:
    import pennylane as qml
    import torch

    n, layers = workload.size, workload.layers
    device = qml.device("default.qubit", wires=n)

    @qml.qnode(device, interface="torch", diff_method="backprop")
    def node(inputs, w):
        for q in range(n):
            qml.RY(inputs[:, q], wires=q)
        for layer in range(layers):
            for q in range(n):
                qml.RX(w[layer, q, 0], wires=q)
                qml.RY(w[layer, q, 1], wires=q)
                qml.RZ(w[layer, q, 2], wires=q)
            for q in range(n):
                qml.CNOT(wires=[q, (q + 1) % n])
        return [qml.expval(qml.PauliZ(q)) for q in range(n)]

    inputs = torch.tensor(x)
    w = torch.tensor(weights.reshape(layers, n, 3), requires_grad=True)

    def outputs():
        return torch.stack(list(node(inputs, w)), dim=-1).reshape(len(x), n)

    def step() -> None:
        outputs().sum().backward()

    return PeerRun("complex128", lambda: outputs().detach().numpy(), step, compiles=False)


def tensorcircuit_run(workload: Workload, x: np.ndarray, weights: np.ndarray) -> PeerRun:
    import jax
    import jax.numpy as jnp
    import tensorcircuit as tc

    tc.set_backend("jax")
    tc.set_dtype("complex64")
    n, layers = workload.size, workload.layers
    signs = jnp.array([1.0, -1.0], dtype=jnp.float32)

    def row_outputs(row, w):
        circuit = tc.Circuit(n)
        for q in range(n):
            circuit.ry(q, theta=row[q])
        for layer in range(layers):
            for q in range(n):
                circuit.rx(q, theta=w[layer, q, 0])
                circuit.ry(q, theta=w[layer, q, 1])
                circuit.rz(q, theta=w[layer, q, 2])
            for q in range(n):
                circuit.cnot(q, (q + 1) % n)
        # tensorcircuit orders qubit 0 as the most significant axis of the state
        probabilities = (jnp.abs(circuit.state()) ** 2).reshape([2] * n)
        return jnp.stack([jnp.sum(probabilities.sum(axis=tuple(a for a in range(n) if a != q)) * signs)
                          for q in range(n)])

    batched = jax.vmap(row_outputs, in_axes=(0, None))
    value_and_grad = jax.jit(jax.value_and_grad(lambda w, rows: jnp.sum(batched(rows, w))))
    rows = jnp.asarray(x, dtype=jnp.float32)
    w = jnp.asarray(weights.reshape(layers, n, 3), dtype=jnp.float32)

    def step() -> None:
        jax.block_until_ready(value_and_grad(w, rows))

    return PeerRun("complex64", lambda: np.asarray(jax.jit(batched)(rows, w)), step, compiles=True)


def piquasso_run(workload: Workload, x: np.ndarray, weights: np.ndarray) -> PeerRun:
    import jax
    import jax.numpy as jnp
    import piquasso as pq

    circuit, inputs, names = _photonic_circuit(workload)
    n_modes, cutoff = workload.size, workload.cutoff
    simulator = pq.PureFockSimulator(d=n_modes, config=pq.Config(cutoff=cutoff, dtype=np.float32),
                                     connector=pq.JaxConnector())
    gates = {"d": lambda a: pq.Displacement(r=a[0], phi=a[1]), "s": lambda a: pq.Squeezing(r=a[0], phi=a[1]),
             "bs": lambda a: pq.Beamsplitter(theta=a[0], phi=a[1]), "r": lambda a: pq.Phaseshifter(phi=a[0]),
             "k": lambda a: pq.Kerr(xi=a[0])}

    def row_outputs(row, w):
        bound = {**dict(zip(names, w)), **dict(zip(inputs, row))}
        with pq.Program() as program:
            pq.Q() | pq.Vacuum()
            for op in circuit:
                pq.Q(*op.modes) | gates[op.name]([bound[p] if isinstance(p, str) else p for p in op.params])
        state = simulator.execute(program).state
        probabilities = jnp.abs(state.get_tensor_representation()) ** 2
        levels = jnp.arange(probabilities.shape[0], dtype=jnp.float32)
        means = [state.quadratures_mean_variance(modes=(m,))[0] for m in range(n_modes)]
        photons = [jnp.sum(probabilities.sum(axis=tuple(a for a in range(n_modes) if a != m)) * levels)
                   for m in range(n_modes)]
        return jnp.real(jnp.stack(means + photons))

    batched = jax.vmap(row_outputs, in_axes=(0, None))
    value_and_grad = jax.jit(jax.value_and_grad(lambda w, rows: jnp.sum(batched(rows, w))))
    rows, w = jnp.asarray(x, dtype=jnp.float32), jnp.asarray(weights, dtype=jnp.float32)

    def step() -> None:
        jax.block_until_ready(value_and_grad(w, rows))

    return PeerRun("complex64", lambda: np.asarray(jax.jit(batched)(rows, w)), step, compiles=True)


def _photonic_circuit(workload: Workload):
    from .circuits import gan_generator_circuit

    return gan_generator_circuit(workload.size, workload.layers)


PEERS: dict[str, dict[str, Callable[[Workload, np.ndarray, np.ndarray], PeerRun]]] = {
    "qubit": {"pennylane": pennylane_run, "tensorcircuit": tensorcircuit_run},
    "photonic": {"piquasso": piquasso_run},
}
