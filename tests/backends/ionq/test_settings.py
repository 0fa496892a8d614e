"""Settings: argument, then environment, then .env, then default; the key never shows."""

import random

import pytest

from qvec.backends.ionq import IonQSettings, PollPolicy, RetryPolicy, Timeouts, resolve_settings
from qvec.backends.ionq.settings import DEFAULT_BASE_URL, RateLimit
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
    waits = [policy.delay(3, 0.25, rng) for _ in range(50)]
    assert all(0.25 <= wait <= 0.25 + 0.5 for wait in waits) and len(set(waits)) == 50  # a floor, with jitter


@pytest.mark.parametrize("make, named", [
    (lambda v: PollPolicy(initial=v), "PollPolicy.initial"), (lambda v: PollPolicy(maximum=v), "PollPolicy.maximum"),
    (lambda v: PollPolicy(factor=v), "PollPolicy.factor"), (lambda v: Timeouts(request=v), "Timeouts.request"),
    (lambda v: Timeouts(batch=v), "Timeouts.batch"), (lambda v: Timeouts(stall=v), "Timeouts.stall"),
    (lambda v: RetryPolicy(backoff=v), "RetryPolicy.backoff"),
    (lambda v: RetryPolicy(max_delay=v), "RetryPolicy.max_delay"),
    (lambda v: RetryPolicy(max_retry_after=v), "RetryPolicy.max_retry_after"),
    (lambda v: RateLimit(per_second=v), "RateLimit.per_second"),
])
@pytest.mark.parametrize("value", [0, -1.5, float("nan")], ids=["zero", "negative", "nan"])
def test_policies_refuse_zero_negative_and_nan_naming_the_value(make, named, value):
    with pytest.raises(InputError, match=named) as info:
        make(value)
    assert repr(value) in str(info.value)


@pytest.mark.parametrize("name", ["max_attempts", "connection_attempts", "unreached_attempts"])
def test_retry_counts_must_be_positive_integers(name):
    with pytest.raises(InputError, match=f"RetryPolicy.{name} must be a positive integer, got 0"):
        RetryPolicy(**{name: 0})


def test_default_polling_suits_the_real_service_and_stuck_jobs_have_a_deadline():
    waits = [wait for wait, _ in zip(PollPolicy().intervals(), range(20))]
    assert waits[0] >= 0.5 and waits[-1] >= 5.0  # at most two polls a second, backing off to seconds
    assert Timeouts().stall is not None and Timeouts().stall > 0 and Timeouts().batch is None


def test_a_key_is_stripped_of_surrounding_whitespace(clean_env, tmp_path):
    clean_env.setenv("IONQ_API_KEY", "  from-env\n")
    assert resolve_settings(env_file=None).api_key == "from-env"
    assert resolve_settings(api_key="arg\r\n", env_file=None).api_key == "arg"


@pytest.mark.parametrize("where", ["argument", "environment", "env file"])
def test_a_key_with_a_control_character_is_refused_naming_its_source_not_its_value(clean_env, tmp_path, where):
    key = "secret\x1bkey"
    env_file = tmp_path / ".env"
    if where == "env file":
        env_file.write_text(f'IONQ_API_KEY="{key}"\n')
    elif where == "environment":
        clean_env.setenv("IONQ_API_KEY", key)
    with pytest.raises(InputError) as info:
        resolve_settings(api_key=key if where == "argument" else None, env_file=env_file)
    message = str(info.value)
    assert "secret" not in message and "character 7" in message
    assert {"argument": "api_key argument", "environment": "environment variable IONQ_API_KEY",
            "env file": f"IONQ_API_KEY in {env_file}"}[where] in message
    with pytest.raises(InputError, match=r"IonQSettings\(api_key=...\)"):
        IonQSettings(key)
