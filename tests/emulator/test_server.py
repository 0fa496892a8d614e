"""Starting and stopping the emulator: a busy address is a one-line ``EmulatorError``, never a traceback."""

import socket

import httpx
import pytest

from qvec.emulator import Emulator, EmulatorConfig, EmulatorError
from qvec.errors import QvecError

from .conftest import KEY, TIMEOUT


def test_a_busy_port_raises_an_emulator_error_naming_it():
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        with pytest.raises(EmulatorError, match=f"cannot listen on 127.0.0.1:{port}: Address already in use") as caught:
            Emulator(EmulatorConfig(api_keys=(KEY,)), port=port).start()
    assert isinstance(caught.value, QvecError) and "\n" not in str(caught.value)


def test_stop_releases_the_port_for_a_new_emulator():
    first = Emulator(EmulatorConfig(api_keys=(KEY,))).start()
    port = first.port
    first.stop()
    with Emulator(EmulatorConfig(api_keys=(KEY,)), port=port) as second:
        assert httpx.get(second.base_url + "/backends/simulator", timeout=TIMEOUT).json()["qubits"] == 29
