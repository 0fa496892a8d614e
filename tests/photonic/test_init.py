"""The package exports what the rest of qvec and the CLI rely on, and imports nothing above the core."""

import subprocess
import sys

import qvec.photonic as photonic


def test_exported_names():
    assert set(photonic.__all__) == {
        "BlackbirdProgram", "Circuit", "DEFAULT_CUTOFF", "DEFAULT_TRUNCATION_TOL", "FockState", "TruncationWarning",
        "load_blackbird", "parse_blackbird", "simulate",
    }
    assert all(hasattr(photonic, name) for name in photonic.__all__)


def test_core_does_not_import_backends_nn_apps_or_cli():
    code = ("import sys, qvec.photonic; bad = [m for m in sys.modules if m.split('.')[:2] in "
            "(['qvec', 'backends'], ['qvec', 'nn'], ['qvec', 'apps'], ['qvec', 'cli'])]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
