"""Running the emulator: a uvicorn server in a background thread, started and stopped cleanly."""

from __future__ import annotations

import errno
import os
import socket
import threading
import time
from typing import Any

import httpx
import uvicorn

from qvec.errors import QvecError

from .app import create_app
from .config import EmulatorConfig
from .faults import FaultLayer, quiet_dropped_connections
from .store import API_PREFIX, JobStore

__all__ = ["Emulator", "EmulatorError"]

_START_TIMEOUT_S = 30.0
_ADMIN_TIMEOUT_S = 30.0


class EmulatorError(QvecError):
    """The emulator could not serve: its address is taken or invalid, or the server did not start."""


def _listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` and listening; ``EmulatorError`` says why not (a busy port, say)."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        system_error = isinstance(exc.errno, int) and exc.errno > 0  # name resolution errors are negative
        reason = os.strerror(exc.errno) if system_error else exc.strerror or str(exc)
        hint = "; pick another --port, or 0 for a free one" if exc.errno == errno.EADDRINUSE else ""
        raise EmulatorError(f"cannot listen on {host}:{port}: {reason}{hint}") from None


class Emulator:
    """The IonQ-compatible server: ``with Emulator(config) as emulator: emulator.base_url``.

    Binds ``host`` (127.0.0.1 by default) on ``port`` (0: a free one) and serves from a daemon thread.
    """

    def __init__(self, config: EmulatorConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config, self.host, self.port = config, host, port
        self.store = JobStore(config.results_ttl, config.results_kept)
        app = FaultLayer(create_app(config, self.store), config, self.store.counters)
        quiet_dropped_connections()
        self._server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                                     lifespan="off", access_log=False, timeout_keep_alive=30))
        self._thread = threading.Thread(target=self._serve, name="qvec-emulator", daemon=True)
        self._socket: socket.socket | None = None

    def __repr__(self) -> str:
        return f"Emulator(url={self.url!r}, config={self.config!r})"

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address in a URL
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API's base URL, as ``IONQ_BASE_URL`` takes it."""
        return self.url + API_PREFIX

    def start(self) -> Emulator:
        """Bind the address, start serving, and return once the server accepts connections."""
        self._socket = _listening_socket(self.host, self.port)
        self.port = self._socket.getsockname()[1]
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise EmulatorError(f"the emulator did not start on {self.host}:{self.port}")
            time.sleep(0.01)
        return self

    def _serve(self) -> None:
        self._server.run(sockets=[self._socket])

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C reaches the calling thread meanwhile)."""
        while self._thread.is_alive():
            self._thread.join(0.5)

    def stop(self) -> None:
        """Stop serving, wait for the thread to end, and release the address."""
        self._server.should_exit = True
        if self._thread.ident is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()

    def counters(self) -> dict[str, Any]:
        """The admin counters, fetched over HTTP with the first key (needs ``admin=True``)."""
        headers = {"Authorization": f"apiKey {self.config.api_keys[0]}"}
        try:
            answer = httpx.get(f"{self.url}/admin/counters", headers=headers, timeout=_ADMIN_TIMEOUT_S)
        except httpx.HTTPError as exc:
            raise EmulatorError(f"could not read the counters from {self.url}: {type(exc).__name__}") from exc
        if answer.status_code == 404:
            raise EmulatorError("the admin counters are off: start the emulator with admin=True (--admin)")
        if answer.status_code != 200:
            raise EmulatorError(f"GET /admin/counters answered {answer.status_code}")
        return answer.json()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
