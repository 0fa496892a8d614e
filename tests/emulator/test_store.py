"""The emulator's job store counts jobs per idempotency key under the client's metadata field."""

from qvec.backends.ionq.client import IDEMPOTENCY_FIELD as CLIENT_FIELD
from qvec.emulator.store import IDEMPOTENCY_FIELD


def test_the_idempotency_field_is_the_clients():
    assert IDEMPOTENCY_FIELD == CLIENT_FIELD
