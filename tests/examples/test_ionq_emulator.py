"""examples/ionq_emulator.py: a Bell circuit through IonQBackend against ``qvec emulator`` (started and stopped by the script)."""

import pytest


@pytest.mark.usefixtures("sigint_handled")  # the script stops its emulator with SIGINT
def test_the_bell_circuit_runs_on_the_emulator(run_example):
    out = run_example("examples/ionq_emulator.py")
    assert out["probabilities"] == pytest.approx([0.5, 0.0, 0.0, 0.5], abs=1e-6)
    counts = out["counts of 00 01 10 11"]
    assert sum(counts) == 1000 and counts[1] == counts[2] == 0
    # 1,000 fair coin flips: |00> within 5 standard deviations (5 * sqrt(250) ~ 79) of 500
    assert abs(counts[0] - 500) < 80
