"""examples/qubit_variational.py prints the textbook values of RY(x) RY(w) CNOT and their gradient."""

import math

import pytest

# Under pytest-xdist both tests run on one worker, so the example runs once (run_example caches it per process).
pytestmark = pytest.mark.xdist_group("examples")


def test_values_and_gradient_are_the_textbook_ones(run_example):
    out = run_example("examples/qubit_variational.py")
    x, w = out["x"], 0.3
    assert out["<Z0>"] == pytest.approx([math.cos(v) for v in x], abs=1e-5)
    assert out["<Z1>"] == pytest.approx([math.cos(v) * math.cos(w) for v in x], abs=1e-5)
    assert out["<Z0 Z1>"] == pytest.approx([math.cos(w)] * 3, abs=1e-5)
    assert out["d sum<Z1> / dw"] == pytest.approx([-math.sin(w) * sum(math.cos(v) for v in x)], abs=1e-5)


def test_training_turns_the_weight_to_pi(run_example):
    out = run_example("examples/qubit_variational.py")
    assert out["w after 50 steps"] == pytest.approx([math.pi], abs=1e-3)
    assert out["sum<Z1> after 50 steps"] == pytest.approx([-sum(math.cos(v) for v in out["x"])], abs=1e-5)
