"""qvec.bench.strategies: every strategy computes what the vectorized batch computes; the claims are judged right.

Times are recorded, never asserted.
"""

import pytest
import torch

from qvec.bench.strategies import StrategyResult, run_strategy, verdicts
from qvec.bench.workloads import gan_workload, qubit_workload

WORKLOADS = [qubit_workload(3, 2), gan_workload(2, 6, 1)]


@pytest.mark.parametrize("workload", WORKLOADS, ids=lambda w: w.kind)
@pytest.mark.parametrize("strategy", ["sequential", "threads:2", "threads:3", "processes:2"])
def test_each_strategy_gives_the_batch_result(workload, strategy):
    layer, x = workload.layer(), workload.inputs(5)
    expected = torch.stack([layer(row) for row in x]).detach()  # one row at a time, outside any strategy
    batch = run_strategy("batch", layer, workload, x)
    assert batch.shape == expected.shape and torch.allclose(batch, expected, atol=1e-5)
    assert torch.allclose(run_strategy(strategy, layer, workload, x), batch, atol=1e-5)


def test_a_strategy_name_that_means_nothing_is_refused():
    workload = WORKLOADS[0]
    with pytest.raises(Exception, match="strategy must be"):
        run_strategy("threads:0", workload.layer(), workload, workload.inputs(2))


def _result(strategy, batch, rate):
    return StrategyResult("photonic", strategy, batch, rate, rate, rate, 0.0)


def test_verdicts_confirm_and_refute_from_the_figures():
    as_reported = [_result("sequential", 64, 100), _result("threads:2", 64, 105), _result("processes:2", 64, 100 / 6.6),
                   _result("batch", 64, 6000)]
    assert [v["verdict"] for v in verdicts(as_reported)] == ["confirmed"] * 3
    opposite = [_result("sequential", 64, 100), _result("threads:2", 64, 190), _result("processes:2", 64, 150),
                _result("batch", 64, 2000)]
    assert [v["verdict"] for v in verdicts(opposite)] == ["refuted"] * 3
    assert "6.6x" in verdicts(opposite)[1]["claim"] and "1.500x" in verdicts(opposite)[1]["ours"]
