"""The emulator's configuration refuses bad values with messages that name them (and never a key)."""

import pytest

from qvec.emulator import EmulatorConfig, Faults
from qvec.errors import InputError


def test_keys_are_stripped_of_surrounding_whitespace():
    assert EmulatorConfig(api_keys=("key-1\n", " key-2")).api_keys == ("key-1", "key-2")


@pytest.mark.parametrize("keys", ["secret-key", (), ("",), ("sec\nret",), ("sec\x00ret",), (None,)])
def test_bad_keys_are_refused_without_showing_them(keys):
    with pytest.raises(InputError, match="API key") as caught:
        EmulatorConfig(api_keys=keys)
    assert "sec" not in str(caught.value)


@pytest.mark.parametrize("options, name", [
    ({"capacity": 0}, "capacity"), ({"capacity": 1.5}, "capacity"), ({"max_qubits": 30}, "max_qubits"),
    ({"max_qubits": 0}, "max_qubits"), ({"latency": -1.0}, "latency"), ({"rate_limit": -2.0}, "rate_limit"),
])
def test_bad_settings_are_refused_by_name(options, name):
    with pytest.raises(InputError, match=name):
        EmulatorConfig(api_keys=("key",), **options)


@pytest.mark.parametrize("options, name", [
    ({"error_rate": 1.5}, "error_rate"), ({"drop_rate": "half"}, "drop_rate"), ({"retry_after": -0.1}, "retry_after"),
    ({"slow_seconds": -1.0}, "slow_seconds"), ({"error_statuses": (404,)}, "error_statuses"),
])
def test_bad_faults_are_refused_by_name(options, name):
    with pytest.raises(InputError, match=name):
        Faults(**options)


def test_the_repr_never_shows_a_key():
    assert "secret" not in repr(EmulatorConfig(api_keys=("secret-key",)))
