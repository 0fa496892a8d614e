"""An IonQ emulator for the layer tests: 127.0.0.1, a free port, no latency, admin counters on."""

import pytest

from qvec.backends import IonQBackend
from qvec.backends.ionq import PollPolicy
from qvec.emulator import Emulator, EmulatorConfig

KEY = "nn-test-key-41c8"
FAST_POLL = PollPolicy(initial=0.01, factor=1.5, maximum=0.1)


@pytest.fixture(scope="module")
def emulator():
    with Emulator(EmulatorConfig(api_keys=(KEY,), latency=0.0, admin=True)) as running:
        yield running


@pytest.fixture
def ionq(emulator) -> IonQBackend:
    """A backend on the emulator's ideal simulator (exact probabilities), ignoring any .env file."""
    return IonQBackend(api_key=KEY, base_url=emulator.base_url, env_file=None, poll=FAST_POLL)
