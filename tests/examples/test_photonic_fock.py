"""examples/photonic_fock.py prints coherent-state statistics and the Hong-Ou-Mandel dip."""

import math

import pytest

# Under pytest-xdist both tests run on one worker, so the example runs once (run_example caches it per process).
pytestmark = pytest.mark.xdist_group("examples")


def test_coherent_states_have_poisson_statistics(run_example):
    out = run_example("examples/photonic_fock.py")
    r = out["r"]
    assert out["mean photon number"] == pytest.approx([v**2 for v in r], abs=1e-6)
    assert out["d<n>/dr"] == pytest.approx([2 * v for v in r], abs=1e-6)
    for value in r:
        poisson = [math.exp(-value**2) * value ** (2 * n) / math.factorial(n) for n in range(4)]
        assert out[f"P(n) for r={value:.1f}, n=0..3"] == pytest.approx(poisson, abs=1e-6)


def test_two_photons_leave_a_50_50_beamsplitter_together(run_example):
    out = run_example("examples/photonic_fock.py")
    assert out["HOM P(2,0) P(1,1) P(0,2)"] == pytest.approx([0.5, 0.0, 0.5], abs=1e-6)
