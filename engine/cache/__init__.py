"""The per-segment translation cache, split along its seams.

- `base`: settings (`CacheConfig`), counters (`CacheStats`), the `TranslationCache`
  protocol every back-end implements, and the `CacheObserver` hook (metrics);
- `keys`: key derivation, model identity, the cached value (`CachedSegment`) and the
  HMAC seal (`Sealer`) on values stored outside the process;
- `memory`: the in-process back-end (LRU + TTL, bounded by bytes and entries);
- `redis_backend`: Redis or Dragonfly (AUTH and TLS URLs, bypass while down);
- `segments`: the pipeline's cache step (`SegmentCache`: keys of model inputs,
  look-up, store).

`build_cache` picks a back-end from a `CacheConfig` through a registry keyed by URL
scheme.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from dragoman.engine.cache.base import CacheConfig, CacheObserver, CacheStats, TranslationCache
from dragoman.engine.cache.keys import KEY_PREFIX, CachedSegment, model_identity, segment_key
from dragoman.engine.cache.memory import MemoryCache
from dragoman.engine.cache.segments import SegmentCache

__all__ = [
    "CACHE_BACKENDS",
    "KEY_PREFIX",
    "CacheConfig",
    "CacheObserver",
    "CacheStats",
    "CachedSegment",
    "MemoryCache",
    "SegmentCache",
    "TranslationCache",
    "build_cache",
    "model_identity",
    "segment_key",
]

logger = logging.getLogger(__name__)

CacheFactory = Callable[[CacheConfig, CacheObserver | None], TranslationCache]


def _redis_factory(config: CacheConfig, observer: CacheObserver | None) -> TranslationCache:
    from dragoman.engine.cache.redis_backend import RedisCache  # redis-py only when asked for

    return RedisCache(config, observer)


CACHE_BACKENDS: dict[str, CacheFactory] = {
    "": MemoryCache,
    "memory": MemoryCache,
    "redis": _redis_factory,
    "rediss": _redis_factory,
    "unix": _redis_factory,
}
"""URL scheme -> back-end factory."""


def build_cache(
    config: CacheConfig, observer: CacheObserver | None = None
) -> TranslationCache | None:
    """Builds the cache `config` describes, or None when caching is off.

    Raises:
        ValueError: The URL's scheme names no known back-end.
    """
    if not config.enabled:
        return None
    scheme = urlsplit(config.url).scheme if config.url else ""
    factory = CACHE_BACKENDS.get(scheme)
    if factory is None:
        raise ValueError(
            f"unsupported cache URL scheme {scheme!r}; use one of: "
            + ", ".join(sorted(s for s in CACHE_BACKENDS if s))
        )
    cache = factory(config, observer)
    logger.info("translation cache: %s (ttl %ss)", cache.backend, config.ttl_seconds)
    return cache
