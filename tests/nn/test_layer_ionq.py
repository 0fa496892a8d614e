"""QuantumLayer on the IonQ backend (against the emulator's exact simulator): parameter-shift gradients
equal local autograd, and one training step is one round of jobs."""

from __future__ import annotations

import torch

from qvec.nn import QuantumLayer, angle_encoding, strongly_entangling

OBSERVABLES = ["Z0", "Z1 Z2", "X1"]


def layers(backend) -> tuple[QuantumLayer, QuantumLayer]:
    circuit, inputs = angle_encoding(3)
    circuit, weights = strongly_entangling(3, 1, circuit=circuit)
    circuit.crz(0, 2, "c")  # a gate with the general (four-term) shift rule
    local = QuantumLayer(circuit, inputs, [*weights, "c"], OBSERVABLES, seed=9, dtype=torch.complex128)
    remote = QuantumLayer(circuit, inputs, [*weights, "c"], OBSERVABLES, backend=backend,
                          diff_method="parameter-shift", seed=9, dtype=torch.complex128)
    return local, remote


def test_parameter_shift_on_the_emulator_equals_local_autograd_in_one_round_of_jobs(ionq, emulator) -> None:
    local, remote = layers(ionq)
    x = torch.tensor([[0.3, -0.7, 1.1], [0.9, 0.2, -0.4], [-1.3, 0.5, 0.8]], dtype=torch.float64, requires_grad=True)
    expected = local(x)
    expected_grads = torch.autograd.grad(expected.sum(), [x, local.weights])
    jobs = emulator.counters()["jobs_created"]
    remote_x = x.detach().clone().requires_grad_(True)
    optimizer = torch.optim.SGD(remote.parameters(), lr=0.1)
    optimizer.zero_grad()
    values = remote(remote_x)
    values.sum().backward()
    optimizer.step()
    # One training step (forward, backward with every shifted row of the batch, update): one job.
    assert emulator.counters()["jobs_created"] == jobs + 1
    torch.testing.assert_close(values.detach(), expected.detach(), atol=1e-5, rtol=0)
    torch.testing.assert_close(remote_x.grad, expected_grads[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(remote.weights.grad, expected_grads[1], atol=1e-5, rtol=0)
