"""The execution layer's public names."""

import qvec.execute


def test_exported_names() -> None:
    assert set(qvec.execute.__all__) == {
        "DIFF_METHODS", "DifferentiatesNatively", "Expval", "Measurement", "Probs", "ReadsPhotonicExpectations",
        "RunsPhotonicBatches", "RunsQubitBatches", "Samples", "execute", "expect_photonic", "run_photonic",
        "statevector"}
    assert all(getattr(qvec.execute, name) is not None for name in qvec.execute.__all__)
    assert qvec.execute.RunsQubitBatches is qvec.backends.RunsQubitBatches


def test_qvec_execute_loads_on_first_use() -> None:
    import subprocess
    import sys
    code = "import qvec; print(callable(qvec.execute.execute))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "True"


def test_a_local_run_never_imports_the_ionq_stack() -> None:
    import subprocess
    import sys
    code = ("import sys, qvec; qvec.Circuit(1).h(0).expval(['Z0']); qvec.photonic.Circuit(1).d(0, 0.1).run(cutoff=4); "
            "print('qvec.backends.ionq' in sys.modules, 'httpx' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
