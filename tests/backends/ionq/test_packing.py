"""Packing circuits into jobs within the API's limits, and parsing strategy names."""

import json

import pytest

from qvec.backends.ionq import Concurrent, Packed, PackingLimits, Sequential, Threads, pack_circuits, parse_strategy
from qvec.errors import InputError


def entries(gate_counts):
    return [{"name": str(i), "circuit": [{"gate": "h", "targets": [0]}] * n} for i, n in enumerate(gate_counts)]


def test_groups_are_consecutive_and_respect_each_limit():
    circuits = entries([3] * 10)
    assert pack_circuits(circuits, PackingLimits(max_circuits=4)) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert pack_circuits(circuits, PackingLimits(max_gates=7)) == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]
    one = len(json.dumps(circuits[0], separators=(",", ":"))) + 1
    groups = pack_circuits(circuits, PackingLimits(max_bytes=4096 + 3 * one))
    assert groups == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]


def test_everything_fits_one_job_by_default():
    assert pack_circuits(entries([5] * 2000)) == [list(range(2000))]


def test_a_circuit_over_the_limits_alone_is_an_error():
    with pytest.raises(InputError, match="circuit 1 alone exceeds"):
        pack_circuits(entries([1, 9]), PackingLimits(max_gates=8))


@pytest.mark.parametrize("text, expected", [
    (None, Packed()), ("packed", Packed()), ("sequential", Sequential()), ("threads", Threads(workers=10)),
    ("threads:4", Threads(workers=4)), ("concurrent:8", Concurrent(max_in_flight=8)), ("PACKED:3", Packed(max_in_flight=3)),
])
def test_strategy_names(text, expected):
    assert parse_strategy(text) == expected


@pytest.mark.parametrize("text", ["fast", "threads:x", "threads:0"])
def test_bad_strategy_names(text):
    with pytest.raises(InputError):
        parse_strategy(text)
