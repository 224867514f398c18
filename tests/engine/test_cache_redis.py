"""The Redis back-end against a real redis-server: hits, TTL, outage and recovery."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from dragoman.engine.cache import KEY_PREFIX, CacheConfig, CacheObserver, segment_key
from dragoman.engine.cache.redis_backend import RedisCache

K = KEY_PREFIX


class Recorder(CacheObserver):
    """Keeps every cache event."""

    def __init__(self) -> None:
        self.hits = self.misses = 0
        self.errors: list[str] = []
        self.bypassed = 0
        self.availability: list[bool] = []
        self.rejected = 0

    def on_lookup(self, backend: str, hits: int, misses: int) -> None:
        self.hits += hits
        self.misses += misses

    def on_error(self, backend: str, operation: str) -> None:
        self.errors.append(operation)

    def on_bypass(self, backend: str, operation: str, count: int) -> None:
        self.bypassed += count

    def on_availability(self, backend: str, available: bool) -> None:
        self.availability.append(available)

    def on_rejected(self, backend: str, count: int) -> None:
        self.rejected += count


def make_cache(url: str, **overrides: Any) -> tuple[RedisCache, Recorder]:
    """A cache with short timeouts and a short bypass window, as tests need."""
    values: dict[str, Any] = {
        "url": url, "backoff_seconds": 0.2, "max_backoff_seconds": 0.4, "secret": "s3cret",
    }  # fmt: skip
    observer = Recorder()
    return RedisCache(CacheConfig(**{**values, **overrides}), observer), observer


def wait_until(predicate: Any, attempts: int = 1200, pause: float = 0.05) -> bool:
    """Polls `predicate` a bounded number of times."""
    for _ in range(attempts):
        if predicate():
            return True
        time.sleep(pause)
    return bool(predicate())


def test_hit_miss_and_partial_overlap(redis_server: Any) -> None:
    cache, observer = make_cache(redis_server.url)
    first = [segment_key("scope", s) for s in ("One.", "Two.", "Three.")]
    assert cache.get_many(first) == [None, None, None]
    cache.set_many(dict(zip(first, ["Un.", "Deux.", "Trois."], strict=True)))
    # A second request shares two sentences, in another order, plus a new one.
    second = [segment_key("scope", s) for s in ("Three.", "Four.", "One.")]
    assert cache.get_many(second) == ["Trois.", None, "Un."]
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.errors, stats.entries) == (2, 4, 0, 3)
    assert stats.available and (observer.hits, observer.misses) == (2, 4)


def test_ttl_expiry(redis_server: Any) -> None:
    cache, _ = make_cache(redis_server.url, ttl_seconds=0.3)
    cache.set_many({K + "k": "v"})
    assert cache.get_many([K + "k"]) == ["v"]
    assert wait_until(lambda: cache.get_many([K + "k"]) == [None])
    assert cache.stats().entries == 0


def test_clear_removes_only_dragoman_keys(redis_server: Any) -> None:
    import redis

    other = redis.Redis.from_url(redis_server.url)
    other.set("someone-else", "keep")
    cache, _ = make_cache(redis_server.url)
    cache.set_many({f"{K}{i}": str(i) for i in range(2500)})
    assert cache.stats().entries == 2500
    assert cache.clear() == 2500
    assert cache.stats().entries == 0
    assert other.get("someone-else") == b"keep"


def test_oversized_values_are_not_stored(redis_server: Any) -> None:
    cache, _ = make_cache(redis_server.url, max_value_bytes=16)
    cache.set_many({K + "small": "x" * 16, K + "big": "x" * 17})
    assert cache.get_many([K + "small", K + "big"]) == ["x" * 16, None]


def test_outage_is_bypassed_and_recovery_resumes(redis_server: Any) -> None:
    cache, observer = make_cache(redis_server.url)
    cache.set_many({K + "a": "A"})
    assert cache.get_many([K + "a"]) == ["A"]

    redis_server.stop()
    # Lookups miss and stores are skipped, without raising.
    assert cache.get_many([K + "a", K + "b"]) == [None, None]
    cache.set_many({K + "b": "B"})
    assert observer.errors == ["get"]
    assert observer.availability == [False]
    # Inside the bypass window nothing touches the network: no new errors.
    for _ in range(50):
        assert cache.get_many([K + "a"]) == [None]
    assert observer.errors == ["get"]
    assert observer.bypassed >= 50
    stats = cache.stats()
    assert not stats.available and stats.entries == -1 and stats.errors == 1

    redis_server.start()  # empty again: no persistence

    def round_trip() -> bool:
        cache.set_many({K + "c": "C"})
        return cache.get_many([K + "c"]) == ["C"]

    assert wait_until(round_trip)  # once the bypass window has passed
    assert observer.availability == [False, True]
    assert cache.stats().available


def test_unreachable_at_start_does_not_raise() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cache, observer = make_cache(f"redis://127.0.0.1:{port}/0")
    assert cache.get_many([K + "a"]) == [None]
    cache.set_many({K + "a": "A"})
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
    with caplog.at_level("WARNING", logger="dragoman.engine.cache.redis_backend"):
        cache.get_many([K + "a"])
        cache.get_many([K + "a"])
    warnings = [r for r in caplog.records if "no maxmemory" in r.getMessage()]
    assert len(warnings) == (1 if maxmemory == "0" else 0)


def test_forged_moved_or_corrupted_values_are_counted_misses(redis_server: Any) -> None:
    import redis

    cache, observer = make_cache(redis_server.url)
    cache.set_many({K + "a": "A", K + "b": "B"})
    raw = redis.Redis.from_url(redis_server.url, decode_responses=True)
    raw.set(K + "forged", '{"h":[["fra_Latn","\u2581evil"]]}')  # another pod, no secret
    raw.set(K + "moved", raw.get(K + "a"))  # a genuine value under another key
    raw.set(K + "b", raw.get(K + "b")[:-1] + "X")  # corrupted
    assert cache.get_many([K + "a", K + "forged", K + "moved", K + "b"]) == ["A", None, None, None]
    assert observer.rejected == 3 and cache.stats().rejected == 3
    # Another replica with the same secret reads what this one wrote; another secret does not.
    assert make_cache(redis_server.url)[0].get_many([K + "a"]) == ["A"]
    assert make_cache(redis_server.url, secret="other")[0].get_many([K + "a"]) == [None]


@pytest.mark.parametrize("tls", [False, True], ids=["auth", "auth+tls"])
def test_password_and_tls_urls(
    redis_factory: Any,
    self_signed: Any,
    tmp_path: Path,
    tls: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = redis_factory(password="pa55-word", tls=self_signed(tmp_path) if tls else None)
    cache, observer = make_cache(server.url)
    cache.set_many({K + "a": "A"})
    assert cache.get_many([K + "a"]) == ["A"] and observer.errors == []
    wrong, wrong_observer = make_cache(server.url.replace("pa55-word", "nope"))
    assert wrong.get_many([K + "a"]) == [None] and wrong_observer.errors == ["get"]
    with caplog.at_level("WARNING", logger="dragoman.engine.cache.redis_backend"):
        make_cache(server.url, secret="")  # warns that replicas will not share entries
    assert "DRAGOMAN_CACHE_SECRET" in caplog.text
    assert "pa55-word" not in caplog.text  # logs show the URL without its password
    assert ("rediss://127.0.0.1" in caplog.text) == tls
