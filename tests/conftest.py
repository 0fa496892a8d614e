"""Shared test settings and fixtures."""

import os
import signal

import pytest
import torch

from qvec.backends import IonQBackend
from qvec.backends.ionq import PollPolicy
from qvec.emulator import Emulator, EmulatorConfig

# Two torch threads on a two-core machine; one per worker under pytest-xdist (`pytest -n 2 --dist loadgroup`), where
# two threads each would oversubscribe the cores and an OpenMP region waits for a descheduled thread. The processes
# the tests start (CLI runs, Dask workers, examples) inherit the one thread through OMP_NUM_THREADS.
if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)
    os.environ["OMP_NUM_THREADS"] = "1"
else:
    torch.set_num_threads(2)

IONQ_TEST_KEY = "qvec-test-key-7d21"
FAST_POLL = PollPolicy(initial=0.01, factor=1.5, maximum=0.1)


@pytest.fixture(scope="session", autouse=True)
def session_journal(tmp_path_factory):
    """Remote batches run by session- or module-scoped fixtures go to a journal of the test session, never the
    user's own."""
    previous = os.environ.get("QVEC_JOURNAL")
    os.environ["QVEC_JOURNAL"] = str(tmp_path_factory.mktemp("session-journal") / "journal.sqlite")
    yield
    if previous is None:
        os.environ.pop("QVEC_JOURNAL", None)
    else:
        os.environ["QVEC_JOURNAL"] = previous


@pytest.fixture(autouse=True)
def journal_per_test(tmp_path_factory, monkeypatch):
    """Each test has its own job journal (QVEC_JOURNAL, inherited by the processes it starts): no test writes
    the user's journal, and none reuses another test's results."""
    monkeypatch.setenv("QVEC_JOURNAL", str(tmp_path_factory.mktemp("journal") / "journal.sqlite"))


@pytest.fixture
def sigint_handled():
    """SIGINT (Ctrl-C) is handled during the test, as in a terminal: KeyboardInterrupt in this process and the
    default in the processes it starts, even when pytest was started with SIGINT ignored (a script's background
    job); a test that presses Ctrl-C would otherwise wait for it forever."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture(scope="module")
def emulator():
    """An IonQ emulator on 127.0.0.1 at a free port: no latency, admin counters on (the IonQ and emulator test
    folders have their own)."""
    with Emulator(EmulatorConfig(api_keys=(IONQ_TEST_KEY,), latency=0.0, admin=True)) as running:
        yield running


@pytest.fixture
def ionq(emulator) -> IonQBackend:
    """A backend on the emulator's ideal simulator (exact probabilities), ignoring any .env file."""
    return IonQBackend(api_key=IONQ_TEST_KEY, base_url=emulator.base_url, env_file=None, poll=FAST_POLL)
