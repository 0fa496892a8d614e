"""Shared test settings and fixtures."""

import signal

import pytest
import torch

torch.set_num_threads(2)


@pytest.fixture
def sigint_handled():
    """SIGINT (Ctrl-C) is handled during the test, as in a terminal: KeyboardInterrupt in this process and the
    default in the processes it starts, even when pytest was started with SIGINT ignored (a script's background
    job); a test that presses Ctrl-C would otherwise wait for it forever."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
