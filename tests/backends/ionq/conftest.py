"""Emulators for the IonQ backend tests: 127.0.0.1, a free port, small latencies."""

import pytest

from qvec.backends import IonQBackend
from qvec.backends.ionq import PollPolicy
from qvec.emulator import Emulator, EmulatorConfig

KEY = "test-key-5f3c9a1e"
# The emulator answers in milliseconds: poll it far faster than the real service's defaults.
FAST_POLL = PollPolicy(initial=0.01, factor=1.5, maximum=0.1)


@pytest.fixture(scope="module")
def emulator():
    """A fault-free emulator shared by a module's tests (counters are cumulative)."""
    with Emulator(EmulatorConfig(api_keys=(KEY,), latency=0.05, admin=True)) as running:
        yield running


@pytest.fixture
def start_emulator():
    """Start emulators with given options; each is stopped after the test."""
    started = []

    def start(**options):
        options.setdefault("latency", 0.05)
        started.append(Emulator(EmulatorConfig(api_keys=(KEY,), admin=True, **options)).start())
        return started[-1]

    yield start
    for running in started:
        running.stop()


def make_backend(emulator, **options):
    """A backend pointed at ``emulator``, ignoring any .env file, polling fast unless told otherwise."""
    options.setdefault("poll", FAST_POLL)
    return IonQBackend(api_key=KEY, base_url=emulator.base_url, env_file=None, **options)

