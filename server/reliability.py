"""Settings and wiring of the translation cache and the circuit breaker.

```yaml
cache: {enabled: true, ttl_s: 3600, max_entries: 100000, max_bytes: 268435456}
cache_url: rediss://:password@cache:6379/0                    # or DRAGOMAN_CACHE_URL
cache_secret: ...              # or DRAGOMAN_CACHE_SECRET: authenticates values in Redis
circuit_breaker: {failure_threshold: 5, reset_timeout_s: 30}
```
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from dragoman.engine.breaker import BreakerConfig, BreakerState, CircuitBreaker
from dragoman.engine.cache import CacheConfig, CacheObserver, TranslationCache, build_cache
from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from dragoman.server.health import Health
    from dragoman.server.metrics import Metrics


class CacheSettings(BaseModel):
    """The per-segment translation cache.

    Attributes:
        enabled: Cache translations at all.
        url: Redis or Dragonfly (`redis://host:6379/0`, `rediss://`, `unix://`); empty
            keeps the cache in process. `DRAGOMAN_CACHE_URL` (the top-level
            `cache_url`) overrides it.
        ttl_s: Lifetime of an entry; 0 keeps entries until evicted.
        max_entries: Bound of the in-process cache's entry count.
        max_bytes: Bound of the in-process cache's memory (keys and values). Bound
            Redis with its own `maxmemory` and an `allkeys-lru` policy.
        max_value_bytes: Larger entries are not stored.
        timeout_s: Redis command timeout; slower counts as a failure.
        connect_timeout_s: Redis connection timeout.
        retries: Extra attempts per failed Redis command.
        backoff_s: After a Redis failure, how long the cache is bypassed before the
            next probe (doubling up to `max_backoff_s` while Redis stays down).
        max_backoff_s: Longest bypass window.
    """

    enabled: bool = True
    url: str = ""
    ttl_s: float = Field(default=3600.0, ge=0)
    max_entries: int = Field(default=100_000, ge=1)
    max_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)
    max_value_bytes: int = Field(default=65_536, ge=1)
    timeout_s: float = Field(default=0.25, gt=0)
    connect_timeout_s: float = Field(default=0.25, gt=0)
    retries: int = Field(default=1, ge=0, le=5)
    backoff_s: float = Field(default=1.0, gt=0)
    max_backoff_s: float = Field(default=30.0, gt=0)

    def to_config(self, url_override: str = "", secret: str = "") -> CacheConfig:
        """The engine's `CacheConfig`; a non-empty `url_override` replaces `url`."""
        return CacheConfig(
            enabled=self.enabled,
            url=url_override or self.url,
            ttl_seconds=self.ttl_s,
            max_entries=self.max_entries,
            max_bytes=self.max_bytes,
            secret=secret,
            max_value_bytes=self.max_value_bytes,
            socket_timeout=self.timeout_s,
            connect_timeout=self.connect_timeout_s,
            retries=self.retries,
            backoff_seconds=self.backoff_s,
            max_backoff_seconds=max(self.max_backoff_s, self.backoff_s),
        )


class BreakerSettings(BaseModel):
    """The circuit breaker around the model calls.

    Attributes:
        enabled: Open on consecutive engine failures at all.
        failure_threshold: Consecutive engine failures that open it.
        reset_timeout_s: How long it stays open before one trial call.
    """

    enabled: bool = True
    failure_threshold: int = Field(default=5, ge=1)
    reset_timeout_s: float = Field(default=30.0, gt=0)

    def to_config(self) -> BreakerConfig:
        """The engine's `BreakerConfig`."""
        return BreakerConfig(self.enabled, self.failure_threshold, self.reset_timeout_s)


def make_cache(
    settings: CacheSettings,
    url_override: str = "",
    observer: CacheObserver | None = None,
    secret: str = "",
) -> TranslationCache | None:
    """The cache the settings describe, or None when it is off."""
    return build_cache(settings.to_config(url_override, secret), observer)


def make_breaker(settings: BreakerSettings) -> CircuitBreaker:
    """A closed breaker with the configured threshold and timeout."""
    return CircuitBreaker(settings.to_config())


def make_guardrails(
    cache: CacheSettings,
    cache_url: str,
    breaker: BreakerSettings,
    metrics: Metrics | None = None,
    cache_secret: str = "",
) -> tuple[TranslationCache | None, CircuitBreaker]:
    """The engine's cache (None when off) and breaker, both reporting to `metrics`."""
    built_cache = make_cache(cache, cache_url, metrics, cache_secret)
    built_breaker = make_breaker(breaker)
    if metrics is not None:
        built_breaker.add_listener(metrics.on_breaker_state)
        if built_cache is not None:
            metrics.cache_attached(built_cache.backend)
    return built_cache, built_breaker


def health_follows_breaker(health: Health) -> Callable[[BreakerState], None]:
    """A breaker listener: NOT_SERVING while open, SERVING otherwise.

    Add it only once the models are loaded (its first call reports the current
    state). Half-open counts as serving, so that traffic brings the trial call.
    """

    def listener(state: BreakerState) -> None:
        if state is BreakerState.OPEN:
            health.set_not_serving()
        else:
            health.set_serving()

    return listener
