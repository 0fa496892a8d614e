"""Settings: argument, then environment, then .env, then default; the key never shows."""

import random

import pytest

from qvec.backends.ionq import RetryPolicy, resolve_settings
from qvec.backends.ionq.settings import DEFAULT_BASE_URL
from qvec.errors import AuthenticationError, InputError


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("IONQ_API_KEY", "IONQ_BASE_URL", "IONQ_TARGET"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_arguments_beat_the_environment_which_beats_the_env_file(clean_env, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("IONQ_API_KEY=from-file\nIONQ_TARGET=qpu.aria-1\nIONQ_BASE_URL=http://127.0.0.1:1/v0.4\n")
    clean_env.setenv("IONQ_TARGET", "qpu.forte-1")
    settings = resolve_settings(env_file=env_file)
    assert (settings.api_key, settings.target, settings.base_url) == ("from-file", "qpu.forte-1", "http://127.0.0.1:1/v0.4")
    assert resolve_settings(api_key="arg", target="simulator", env_file=env_file).target == "simulator"


def test_defaults(clean_env):
    settings = resolve_settings(api_key="k", env_file=None)
    assert (settings.base_url, settings.target) == (DEFAULT_BASE_URL, "simulator")


def test_repr_hides_the_key(clean_env):
    settings = resolve_settings(api_key="very-secret", env_file=None)
    assert "very-secret" not in repr(settings) and "api_key=***" in repr(settings)


def test_missing_key_and_bad_url_are_reported(clean_env, tmp_path):
    with pytest.raises(AuthenticationError, match="no IonQ API key"):
        resolve_settings(env_file=tmp_path / "absent.env")
    with pytest.raises(InputError, match="must start with http"):
        resolve_settings(api_key="k", base_url="ftp://x", env_file=None)


def test_backoff_grows_with_jitter_and_retry_after_wins():
    policy, rng = RetryPolicy(backoff=1.0, max_delay=5.0), random.Random(0)
    delays = [policy.delay(attempt, None, rng) for attempt in (1, 2, 3, 4, 5)]
    assert 0.5 <= delays[0] <= 1.0 and 1.0 <= delays[1] <= 2.0 and 2.5 <= delays[4] <= 5.0
    assert policy.delay(3, 0.25, rng) == 0.25
