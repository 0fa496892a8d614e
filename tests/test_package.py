"""The package's public face: names importable from `qvec` as DESIGN.md promises."""

from __future__ import annotations

import pytest

import qvec


def test_subpackages_load_on_first_use() -> None:
    assert callable(qvec.sim.expval)
    assert callable(qvec.photonic.Circuit)
    assert callable(qvec.backends.IonQBackend)
    assert qvec.Circuit is qvec.circuit.Circuit


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        qvec.nope
