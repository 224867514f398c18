"""The Redis back-end against a real redis-server: hits, TTL, outage and recovery."""

from __future__ import annotations

import time
from typing import Any

import pytest
from dragoman.engine.cache import CacheConfig, CacheObserver, CacheScope
from dragoman.engine.cache_redis import RedisCache


class Recorder(CacheObserver):
    """Keeps every cache event."""

    def __init__(self) -> None:
        self.hits = self.misses = 0
        self.errors: list[str] = []
        self.bypassed = 0
        self.availability: list[bool] = []

    def on_lookup(self, backend: str, hits: int, misses: int) -> None:
        self.hits += hits
        self.misses += misses

    def on_error(self, backend: str, operation: str) -> None:
        self.errors.append(operation)

    def on_bypass(self, backend: str, operation: str, count: int) -> None:
        self.bypassed += count

    def on_availability(self, backend: str, available: bool) -> None:
        self.availability.append(available)


def make_cache(url: str, **overrides: Any) -> tuple[RedisCache, Recorder]:
    """A cache with short timeouts and a short bypass window, as tests need."""
    values: dict[str, Any] = {"url": url, "backoff_seconds": 0.2, "max_backoff_seconds": 0.4}
    observer = Recorder()
    return RedisCache(CacheConfig(**{**values, **overrides}), observer), observer


def wait_until(predicate: Any, attempts: int = 100, pause: float = 0.05) -> bool:
    """Polls `predicate` a bounded number of times."""
    for _ in range(attempts):
        if predicate():
            return True
        time.sleep(pause)
    return bool(predicate())


def test_hit_miss_and_partial_overlap(redis_server: Any) -> None:
    cache, observer = make_cache(redis_server.url)
    scope = CacheScope("m", "eng_Latn", "fra_Latn")
    first = scope.keys(["One.", "Two.", "Three."])
    assert cache.get_many(first) == [None, None, None]
    cache.set_many(dict(zip(first, ["Un.", "Deux.", "Trois."], strict=True)))
    # A second request shares two sentences, in another order, plus a new one.
    second = scope.keys(["Three.", "Four.", "One."])
    assert cache.get_many(second) == ["Trois.", None, "Un."]
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.errors, stats.entries) == (2, 4, 0, 3)
    assert stats.available and (observer.hits, observer.misses) == (2, 4)


def test_ttl_expiry(redis_server: Any) -> None:
    cache, _ = make_cache(redis_server.url, ttl_seconds=0.3)
    cache.set_many({"dragoman:tc:v1:k": "v"})
    assert cache.get_many(["dragoman:tc:v1:k"]) == ["v"]
    assert wait_until(lambda: cache.get_many(["dragoman:tc:v1:k"]) == [None])
    assert cache.stats().entries == 0


def test_clear_removes_only_dragoman_keys(redis_server: Any) -> None:
    import redis

    other = redis.Redis.from_url(redis_server.url)
    other.set("someone-else", "keep")
    cache, _ = make_cache(redis_server.url)
    cache.set_many({f"dragoman:tc:v1:{i}": str(i) for i in range(2500)})
    assert cache.stats().entries == 2500
    assert cache.clear() == 2500
    assert cache.stats().entries == 0
    assert other.get("someone-else") == b"keep"


def test_oversized_values_are_not_stored(redis_server: Any) -> None:
    cache, _ = make_cache(redis_server.url, max_value_bytes=16)
    cache.set_many({"dragoman:tc:v1:small": "x" * 16, "dragoman:tc:v1:big": "x" * 17})
    assert cache.get_many(["dragoman:tc:v1:small", "dragoman:tc:v1:big"]) == ["x" * 16, None]


def test_outage_is_bypassed_and_recovery_resumes(redis_server: Any) -> None:
    cache, observer = make_cache(redis_server.url)
    cache.set_many({"dragoman:tc:v1:a": "A"})
    assert cache.get_many(["dragoman:tc:v1:a"]) == ["A"]

    redis_server.stop()
    # Lookups miss and stores are skipped, without raising.
    assert cache.get_many(["dragoman:tc:v1:a", "dragoman:tc:v1:b"]) == [None, None]
    cache.set_many({"dragoman:tc:v1:b": "B"})
    assert observer.errors == ["get"]
    assert observer.availability == [False]
    # Inside the bypass window nothing touches the network: no new errors.
    for _ in range(50):
        assert cache.get_many(["dragoman:tc:v1:a"]) == [None]
    assert observer.errors == ["get"]
    assert observer.bypassed >= 50
    stats = cache.stats()
    assert not stats.available and stats.entries == -1 and stats.errors == 1

    redis_server.start()  # empty again: no persistence

    def round_trip() -> bool:
        cache.set_many({"dragoman:tc:v1:c": "C"})
        return cache.get_many(["dragoman:tc:v1:c"]) == ["C"]

    assert wait_until(round_trip)  # once the bypass window has passed
    assert observer.availability == [False, True]
    assert cache.stats().available


def test_unreachable_at_start_does_not_raise() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cache, observer = make_cache(f"redis://127.0.0.1:{port}/0")
    assert cache.get_many(["dragoman:tc:v1:a"]) == [None]
    cache.set_many({"dragoman:tc:v1:a": "A"})
    assert cache.clear() == -1  # an admin action always tries
    assert observer.errors == ["get", "clear"]
    assert cache.stats().misses == 1


@pytest.mark.parametrize("retries", [0, 2])
def test_retries_bound_the_failed_attempts(retries: int) -> None:
    calls: list[int] = []
    cache, observer = make_cache("redis://127.0.0.1:1/0", retries=retries)

    def failing() -> None:
        import redis

        calls.append(1)
        raise redis.exceptions.ConnectionError("refused")

    assert cache._call("get", failing) is None
    assert len(calls) == retries + 1
    assert observer.errors == ["get"]


@pytest.mark.parametrize("maxmemory", ["0", "64mb"], ids=["unbounded", "bounded"])
def test_warns_once_about_an_unbounded_redis(
    redis_server: Any, maxmemory: str, caplog: pytest.LogCaptureFixture
) -> None:
    import redis

    redis.Redis.from_url(redis_server.url).config_set("maxmemory", maxmemory)
    cache, _ = make_cache(redis_server.url)
    with caplog.at_level("WARNING", logger="dragoman.engine.cache_redis"):
        cache.get_many(["dragoman:tc:v1:a"])
        cache.get_many(["dragoman:tc:v1:a"])
    warnings = [r for r in caplog.records if "no maxmemory" in r.getMessage()]
    assert len(warnings) == (1 if maxmemory == "0" else 0)
