"""Token-bucket rate limiter, on a fake clock (no sleeping)."""

from __future__ import annotations

import pytest
from dragoman.server.ratelimit import Limits, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


def test_requests_per_window(clock: Clock) -> None:
    limiter = RateLimiter(60.0, Limits(requests=3), clock=clock)
    assert [limiter.acquire("a").allowed for _ in range(3)] == [True, True, True]
    refused = limiter.acquire("a")
    assert not refused.allowed and refused.limit == "requests"
    assert refused.retry_after_s == pytest.approx(20.0)  # one token per 20 s
    assert limiter.acquire("b").allowed, "callers have separate budgets"
    clock.now += 20.0
    assert limiter.acquire("a").allowed
    assert not limiter.acquire("a").allowed


def test_characters_and_atomic_refusal(clock: Clock) -> None:
    limiter = RateLimiter(10.0, Limits(requests=100, characters=100), clock=clock)
    assert limiter.acquire("a", characters=80).allowed
    refused = limiter.acquire("a", characters=30)
    assert refused.limit == "characters"
    assert refused.retry_after_s == pytest.approx(1.0)  # 10 chars/s, 10 missing
    # The refused call took no request token either: 99 more fit.
    assert all(limiter.acquire("a").allowed for _ in range(99))
    assert limiter.acquire("a").limit == "requests"


def test_oversized_call_can_never_pass(clock: Clock) -> None:
    limiter = RateLimiter(60.0, Limits(characters=50), clock=clock)
    refused = limiter.acquire("a", characters=51)
    assert not refused.allowed and refused.retry_after_s is None
    assert "split" in refused.message


def test_zero_means_unlimited_and_overrides(clock: Clock) -> None:
    limiter = RateLimiter(60.0, Limits(requests=0, characters=10), clock=clock)
    assert all(limiter.acquire("a").allowed for _ in range(1000))
    own = Limits(requests=1, characters=0)  # own request budget, default characters
    assert limiter.effective(own) == Limits(1, 10)
    assert limiter.acquire("k", limits=own).allowed
    assert not limiter.acquire("k", limits=own).allowed
    assert not limiter.acquire("k2", characters=11, limits=own).allowed


def test_changed_limit_starts_a_new_bucket(clock: Clock) -> None:
    limiter = RateLimiter(60.0, Limits(requests=1), clock=clock)
    assert limiter.acquire("a").allowed
    assert not limiter.acquire("a").allowed
    assert limiter.acquire("a", limits=Limits(requests=5)).allowed


def test_refill_never_exceeds_capacity(clock: Clock) -> None:
    limiter = RateLimiter(1.0, Limits(requests=2), clock=clock)
    clock.now += 3600
    assert [limiter.acquire("a").allowed for _ in range(3)] == [True, True, False]
