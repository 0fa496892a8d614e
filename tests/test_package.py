"""The package's public face: names importable from `qvec` as DESIGN.md promises, loaded on first use."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys

import pytest

import qvec


def test_subpackages_load_on_first_use() -> None:
    assert callable(qvec.sim.expval)
    assert callable(qvec.photonic.Circuit)
    assert callable(qvec.backends.IonQBackend)
    assert qvec.Circuit is qvec.circuit.Circuit


def test_every_name_in_all_resolves_and_dir_lists_it() -> None:
    for name in qvec.__all__:
        assert getattr(qvec, name) is not None, name
    assert set(qvec.__all__) <= set(dir(qvec))
    assert qvec.draw is qvec.circuit.draw and qvec.Hamiltonian is qvec.circuit.Hamiltonian


def test_version_is_the_installed_distributions() -> None:
    assert qvec.__version__ == importlib.metadata.version("qvec")


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        qvec.nope


def fresh_interpreter(code: str) -> dict:
    """Run ``code`` in a new interpreter (this one has torch loaded already); it prints one JSON line last."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_import_qvec_and_its_version_do_not_import_torch() -> None:
    seen = fresh_interpreter("import json, sys, qvec; v = qvec.__version__; "
                             "print(json.dumps({'torch': 'torch' in sys.modules, 'version': v}))")
    assert seen == {"torch": False, "version": qvec.__version__}


def test_first_use_of_circuit_imports_what_it_needs() -> None:
    seen = fresh_interpreter("import json, sys, qvec; c = qvec.Circuit(2); c.h(0); "
                             "print(json.dumps({'torch': 'torch' in sys.modules, 'p': c.probs()[0].tolist()}))")
    assert seen["torch"] and seen["p"] == pytest.approx([0.5, 0.5, 0.0, 0.0], abs=1e-6)
