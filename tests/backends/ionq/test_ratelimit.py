"""RateBudget: a token bucket shared across threads, halved by a 429 and restored by time (fake clock)."""

import threading

import pytest

from qvec.backends.ionq.ratelimit import RateBudget
from qvec.backends.ionq.settings import RateLimit


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_burst_passes_then_requests_are_spaced_at_the_rate():
    budget = RateBudget(RateLimit(per_second=10.0, burst=3), clock=Clock())
    waits = [budget.reserve() for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.0, 0.0, 0.1, 0.2])


def test_a_429_halves_the_rate_once_per_burst_and_time_restores_it():
    clock = Clock()
    budget = RateBudget(RateLimit(per_second=20.0, burst=20, minimum=1.0, recovery=20.0), clock=clock)
    budget.throttled()
    budget.throttled()  # the same burst of answers: no second halving
    assert budget.rate == pytest.approx(10.0)
    clock.now += 1.0
    budget.throttled()
    assert budget.rate == pytest.approx(5.5)  # restored by 1/s for a second, then halved
    clock.now += 60.0
    assert budget.rate == pytest.approx(20.0)
    for _ in range(10):
        clock.now += 1.0
        budget.throttled()
    assert budget.rate >= 1.0


def test_after_a_429_the_next_request_waits():
    budget = RateBudget(RateLimit(per_second=10.0, burst=10), clock=Clock())
    budget.throttled()
    assert budget.reserve() == pytest.approx(1 / 5)


def test_threads_share_one_budget():
    budget = RateBudget(RateLimit(per_second=100.0, burst=10), clock=Clock())
    waits, lock = [], threading.Lock()

    def worker():
        for _ in range(25):
            wait = budget.reserve()
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 200 reservations on a frozen clock: 10 from the burst, then one slot every 10 ms, none shared
    assert sorted(waits) == pytest.approx([0.0] * 10 + [i / 100 for i in range(1, 191)])
