"""qvec.bench.remote: a training epoch against the emulator reaches the weights local autograd reaches.

Times are recorded, never asserted.
"""

import torch

from qvec.bench.remote import RemoteBenchmark, epoch_model, run_epoch


def test_an_epoch_trains_the_remote_model_as_local_autograd_would():
    """Three steps of SGD against the emulator land on the weights the same steps reach with local backprop."""
    bench, samples, batch = RemoteBenchmark(latency=0.0, capacity=4), 9, 3
    outcome = run_epoch(bench, samples, batch, seed=1)
    assert outcome.steps == 3 and outcome.jobs == 3
    generator = torch.Generator().manual_seed(1)
    x = torch.rand(samples, 4, generator=generator, dtype=torch.float64) * torch.pi
    y = torch.rand(samples, 4, generator=generator, dtype=torch.float64) * 2 - 1
    local = epoch_model(None)
    start = local.weights.detach().clone()
    optimizer = torch.optim.SGD(local.parameters(), lr=0.1)
    for first in range(0, samples, batch):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(local(x[first:first + batch]), y[first:first + batch]).backward()
        optimizer.step()
    assert not torch.allclose(local.weights, start)  # the steps moved the weights
    assert torch.allclose(torch.tensor(outcome.final_weights, dtype=torch.float64), local.weights, atol=1e-12)
    assert outcome.gradient_max_abs_diff < 1e-12
