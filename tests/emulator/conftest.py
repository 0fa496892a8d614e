"""Emulators for the emulator's own tests, and a client that speaks raw HTTP to them."""

import httpx
import pytest

from qvec.emulator import Emulator, EmulatorConfig

KEY = "emulator-key-1"
OTHER_KEY = "emulator-key-2"


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


@pytest.fixture
def api(start_emulator):
    """An httpx client on a fault-free emulator's base URL, authenticated with KEY."""
    emulator = start_emulator(latency=0.02)
    with httpx.Client(base_url=emulator.base_url + "/", headers={"Authorization": f"apiKey {KEY}"}, timeout=10) as client:
        client.emulator = emulator
        yield client
