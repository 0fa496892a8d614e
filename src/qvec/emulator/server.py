"""Running the emulator: a uvicorn server in a background thread, started and stopped cleanly."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import uvicorn

from .app import create_app
from .config import EmulatorConfig
from .faults import FaultLayer, quiet_dropped_connections
from .store import API_PREFIX, JobStore

__all__ = ["Emulator"]

_START_TIMEOUT_S = 15.0


class Emulator:
    """The IonQ-compatible server: ``with Emulator(config) as emulator: emulator.base_url``.

    Binds ``host`` (127.0.0.1 by default) on ``port`` (0: a free one) and serves from a daemon thread.
    """

    def __init__(self, config: EmulatorConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config, self.host, self.port = config, host, port
        self.store = JobStore()
        app = FaultLayer(create_app(config, self.store), config, self.store.counters)
        quiet_dropped_connections()
        self._server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                                     lifespan="off", access_log=False, timeout_keep_alive=30))
        self._thread = threading.Thread(target=self._server.run, name="qvec-emulator", daemon=True)

    def __repr__(self) -> str:
        return f"Emulator(url={self.url!r}, config={self.config!r})"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API's base URL, as ``IONQ_BASE_URL`` takes it."""
        return self.url + API_PREFIX

    def start(self) -> Emulator:
        """Start serving and return once the socket is listening."""
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the emulator could not start on {self.host}:{self.port}")
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C reaches the calling thread meanwhile)."""
        while self._thread.is_alive():
            self._thread.join(0.5)

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def counters(self) -> dict[str, Any]:
        """The admin counters, fetched over HTTP (needs ``admin=True``)."""
        return httpx.get(f"{self.url}/admin/counters", timeout=10).json()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
