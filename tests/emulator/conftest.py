"""Emulators for the emulator's own tests, and a client that speaks raw HTTP to them."""

import httpx
import pytest

from qvec.emulator import Emulator, EmulatorConfig

KEY = "emulator-key-1"
OTHER_KEY = "emulator-key-2"
TIMEOUT = 60.0  # seconds: a guard against a hang on a loaded machine, never a speed check


@pytest.fixture
def start_emulator():
    """Start emulators with given options; each is stopped after the test."""
    started = []

    def start(**options):
        options.setdefault("admin", True)
        started.append(Emulator(EmulatorConfig(api_keys=(KEY, OTHER_KEY), **options)).start())
        return started[-1]

    yield start
    for running in started:
        running.stop()


def client(emulator, key=KEY):
    """An httpx client on ``emulator``'s base URL, authenticated with ``key``."""
    return httpx.Client(base_url=emulator.base_url + "/", headers={"Authorization": f"apiKey {key}"}, timeout=TIMEOUT)


@pytest.fixture
def api(start_emulator):
    """An httpx client on a fault-free emulator's base URL, authenticated with KEY."""
    emulator = start_emulator(latency=0.02)
    with client(emulator) as api_client:
        api_client.emulator = emulator
        yield api_client
