"""The emulator is a server of its own: importing it never loads qvec's IonQ client."""

import subprocess
import sys

import qvec.emulator


def test_the_emulator_does_not_import_the_ionq_client():
    probe = "import sys, qvec.emulator; print(sorted(m for m in sys.modules if m.startswith('qvec.backends')))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_exported_names():
    assert sorted(qvec.emulator.__all__) == ["Emulator", "EmulatorConfig", "EmulatorError", "Faults"]
