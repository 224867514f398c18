"""Per-segment translation cache.

The engine looks every sentence up after segmentation and before batching, so
overlapping or reordered requests still hit (a whole-request key would miss). A key
covers everything that decides a sentence's translation: the model's identity
(including adapter hashes and compute type), the source and target codes, the
decoding options, the glossary and the sentence itself.

Two back-ends share the `TranslationCache` protocol: `MemoryCache` (in-process LRU
with TTL, the default) and `RedisCache` (Redis or Dragonfly, chosen when a cache URL
is set; see `dragoman.engine.cache_redis`). `build_cache` picks one from a
`CacheConfig` through a registry keyed by URL scheme.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

from cachetools import LRUCache, TTLCache
from dragoman.engine.types import DecodingOptions

logger = logging.getLogger(__name__)

KEY_PREFIX = "dragoman:tc:v1:"
"""Prefix of every cache key; bump the version when the key or value format changes."""


@dataclass(frozen=True)
class CacheConfig:
    """How to cache translations.

    Attributes:
        enabled: False turns the cache off entirely.
        url: Empty for the in-process cache; `redis://`, `rediss://` or `unix://`
            for Redis or Dragonfly.
        ttl_seconds: Lifetime of an entry; 0 or less keeps entries until evicted.
        max_entries: Bound of the in-process cache (LRU eviction).
        max_value_bytes: Entries larger than this are not stored (bounds Redis memory
            per entry; bound the whole server with `maxmemory` + an LRU policy).
        socket_timeout: Seconds a Redis command may take before it counts as failed.
        connect_timeout: Seconds to open a Redis connection.
        retries: Extra attempts for a failed Redis command (tenacity, small backoff).
        backoff_seconds: After a failure, Redis is bypassed this long; the window
            doubles on every failed probe up to `max_backoff_seconds`.
        max_backoff_seconds: Upper bound of the bypass window.
    """

    enabled: bool = True
    url: str = ""
    ttl_seconds: float = 3600.0
    max_entries: int = 100_000
    max_value_bytes: int = 65_536
    socket_timeout: float = 0.25
    connect_timeout: float = 0.25
    retries: int = 1
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0


@dataclass(frozen=True)
class CacheStats:
    """Counters of one cache since start (or since the last `clear`, for entries).

    Attributes:
        backend: "memory" or "redis".
        hits: Lookups answered from the cache.
        misses: Lookups not answered (including those made while Redis was down).
        errors: Failed back-end operations.
        bypassed: Lookups and stores skipped because the back-end was down.
        entries: Entries held now (-1 when the back-end cannot tell).
        max_entries: Configured bound (0 = bounded by the back-end's own memory limit).
        ttl_seconds: Configured lifetime of an entry.
        available: False while the back-end is down and being bypassed.
    """

    backend: str
    hits: int
    misses: int
    errors: int
    bypassed: int
    entries: int
    max_entries: int
    ttl_seconds: float
    available: bool


@runtime_checkable
class TranslationCache(Protocol):
    """What the engine needs from a cache. Implementations are thread-safe."""

    backend: str

    def get_many(self, keys: Sequence[str]) -> list[str | None]:
        """Returns the cached value of each key, or None, in the order of `keys`."""
        ...

    def set_many(self, items: Mapping[str, str]) -> None:
        """Stores every key/value pair (with the configured TTL); never raises."""
        ...

    def stats(self) -> CacheStats:
        """Returns the counters and the current size."""
        ...

    def clear(self) -> int:
        """Removes every dragoman entry; returns how many were removed (-1 if unknown)."""
        ...


class CacheObserver:
    """Receives cache events (for metrics). Every method is a no-op here; override some."""

    def on_lookup(self, backend: str, hits: int, misses: int) -> None:
        """Called after every `get_many` with its hit and miss counts."""

    def on_error(self, backend: str, operation: str) -> None:
        """Called when a back-end operation (get, set, clear, stats) failed."""

    def on_bypass(self, backend: str, operation: str, count: int) -> None:
        """Called when `count` keys were not looked up or stored because the back-end is down."""

    def on_availability(self, backend: str, available: bool) -> None:
        """Called when the back-end goes down or comes back."""


# --- keys and values ---------------------------------------------------------------


@dataclass(frozen=True)
class CacheScope:
    """Everything besides the sentence that decides its translation.

    Attributes:
        model_identity: `model_identity()` of the model (adapters and compute type included).
        source_language: Model code of the source language.
        target_language: Model code of the target language.
        options: The request's decoding options.
        glossary: Terminology pairs applied to the request, if any.
    """

    model_identity: str
    source_language: str
    target_language: str
    options: DecodingOptions = field(default_factory=DecodingOptions)
    glossary: tuple[tuple[str, str], ...] = ()

    def digest(self) -> str:
        """A stable hash of the scope; compute it once per request."""
        payload = json.dumps(
            [
                self.model_identity,
                self.source_language,
                self.target_language,
                asdict(self.options),
                [list(pair) for pair in self.glossary],
            ],
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def keys(self, segments: Sequence[str]) -> list[str]:
        """Returns the cache key of each segment under this scope."""
        digest = self.digest()
        return [segment_key(digest, segment) for segment in segments]


def segment_key(scope_digest: str, segment: str) -> str:
    """Returns the cache key of one segment under a scope digest."""
    h = hashlib.sha256(scope_digest.encode("ascii"))
    h.update(b"\0")
    h.update(segment.encode("utf-8"))
    return KEY_PREFIX + h.hexdigest()


def model_identity(model_dir: str | Path, compute_type: str = "") -> str:
    """Identifies a model's outputs without hashing its weights.

    Uses `dragoman.json` (base model, adapter sha256 hashes, quantization), the
    CTranslate2 `config.json` and the size of `model.bin`, so that replicas holding
    copies of the same model share Redis entries, while a re-converted or re-adapted
    model gets new keys.

    Args:
        model_dir: The CTranslate2 model directory.
        compute_type: The compute type the model is loaded with (outputs differ by it).

    Returns:
        A hex digest.
    """
    root = Path(model_dir)
    h = hashlib.sha256(compute_type.encode("utf-8"))
    for name in ("dragoman.json", "config.json"):
        path = root / name
        h.update(b"\0" + name.encode("ascii") + b"\0")
        if path.is_file():
            h.update(path.read_bytes())
    weights = root / "model.bin"
    h.update(b"\0model.bin\0" + str(weights.stat().st_size if weights.is_file() else -1).encode())
    return h.hexdigest()


@dataclass(frozen=True)
class CachedSegment:
    """The cached model output for one source segment.

    It has the `hypotheses`, `scores` and `alignments` of a decoded segment, so the
    engine restores texts, alternatives and scores from a hit exactly as from a
    fresh run.

    Attributes:
        hypotheses: Target tokens of each hypothesis, best first (target prefix included).
        scores: The hypotheses' scores.
        alignments: Per hypothesis, the source piece of each target word (segments
            decoded with attention only).
    """

    hypotheses: list[list[str]]
    scores: list[float] = field(default_factory=list)
    alignments: list[list[int]] = field(default_factory=list)

    def encode(self) -> str:
        """Serialises the entry as compact JSON."""
        data: dict[str, object] = {"h": self.hypotheses, "s": self.scores}
        if self.alignments:
            data["a"] = self.alignments
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def decode(cls, value: str) -> CachedSegment | None:
        """Parses an entry; returns None for a malformed one (treated as a miss)."""
        try:
            data = json.loads(value)
            hypotheses = [[str(token) for token in hyp] for hyp in data["h"]]
            scores = [float(score) for score in data.get("s", ())]
            alignments = [[int(i) for i in a] for a in data.get("a", ())]
        except (ValueError, KeyError, TypeError):
            return None
        if alignments and len(alignments) != len(hypotheses):
            return None
        return cls(hypotheses, scores, alignments) if hypotheses else None


# --- the in-process back-end -------------------------------------------------------


class MemoryCache:
    """In-process LRU cache with a TTL (cachetools), bounded by entry count."""

    backend = "memory"

    def __init__(self, config: CacheConfig, observer: CacheObserver | None = None) -> None:
        """Creates the cache.

        Args:
            config: `max_entries`, `ttl_seconds` and `max_value_bytes` apply.
            observer: Receives lookup counts.
        """
        self._config = config
        self._observer = observer or CacheObserver()
        self._lock = threading.Lock()
        data: Any = (
            TTLCache(maxsize=config.max_entries, ttl=config.ttl_seconds)
            if config.ttl_seconds > 0
            else LRUCache(maxsize=config.max_entries)
        )
        self._data: LRUCache[str, str] = data
        self._hits = 0
        self._misses = 0

    def get_many(self, keys: Sequence[str]) -> list[str | None]:
        """Returns the cached value of each key, or None."""
        with self._lock:
            values = [self._data.get(key) for key in keys]
        hits = sum(value is not None for value in values)
        with self._lock:
            self._hits += hits
            self._misses += len(values) - hits
        self._observer.on_lookup(self.backend, hits, len(values) - hits)
        return values

    def set_many(self, items: Mapping[str, str]) -> None:
        """Stores the items that fit `max_value_bytes`."""
        limit = self._config.max_value_bytes
        with self._lock:
            for key, value in items.items():
                # A UTF-8 character takes at most 4 bytes: skip encoding short values.
                if len(value) * 4 <= limit or len(value.encode("utf-8")) <= limit:
                    self._data[key] = value

    def stats(self) -> CacheStats:
        """Returns the counters and the current size."""
        with self._lock:
            if isinstance(self._data, TTLCache):
                self._data.expire()
            return CacheStats(
                backend=self.backend,
                hits=self._hits,
                misses=self._misses,
                errors=0,
                bypassed=0,
                entries=len(self._data),
                max_entries=self._config.max_entries,
                ttl_seconds=self._config.ttl_seconds,
                available=True,
            )

    def clear(self) -> int:
        """Removes every entry; returns how many there were."""
        with self._lock:
            count = len(self._data)
            self._data.clear()
        return count


# --- choosing a back-end -----------------------------------------------------------

CacheFactory = Callable[[CacheConfig, CacheObserver | None], TranslationCache]


def _redis_factory(config: CacheConfig, observer: CacheObserver | None) -> TranslationCache:
    from dragoman.engine.cache_redis import RedisCache  # redis-py only when asked for

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
