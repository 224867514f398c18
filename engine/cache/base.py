"""What the engine needs from a translation cache: settings, counters, the protocol."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class CacheConfig:
    """How to cache translations.

    Attributes:
        enabled: False turns the cache off entirely.
        url: Empty for the in-process cache; `redis://`, `rediss://` or `unix://`
            for Redis or Dragonfly.
        ttl_seconds: Lifetime of an entry; 0 or less keeps entries until evicted.
        max_entries: Bound of the in-process cache's entry count (LRU eviction).
        max_bytes: Bound of the in-process cache's memory (keys and values, LRU
            eviction); whichever bound is reached first evicts.
        max_value_bytes: Entries larger than this are not stored (bounds Redis memory
            per entry; bound the whole server with `maxmemory` + an LRU policy).
        socket_timeout: Seconds a Redis command may take before it counts as failed.
        connect_timeout: Seconds to open a Redis connection.
        retries: Extra attempts for a failed Redis command (tenacity, small backoff).
        backoff_seconds: After a failure, Redis is bypassed this long; the window
            doubles on every failed probe up to `max_backoff_seconds`.
        max_backoff_seconds: Upper bound of the bypass window.
        secret: Deployment secret that authenticates values stored outside the
            process (HMAC-SHA256); replicas sharing a Redis need the same one. Empty:
            a random per-process key (values are still authenticated, but replicas
            do not share entries).
    """

    enabled: bool = True
    url: str = ""
    ttl_seconds: float = 3600.0
    max_entries: int = 100_000
    max_bytes: int = 256 * 1024 * 1024
    max_value_bytes: int = 65_536
    socket_timeout: float = 0.25
    connect_timeout: float = 0.25
    retries: int = 1
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    secret: str = field(default="", repr=False)


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
        rejected: Values that failed authentication or did not parse (forged or
            corrupted), served as misses.
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
    rejected: int = 0


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

    def on_rejected(self, backend: str, count: int) -> None:
        """Called when `count` cached values failed authentication (served as misses)."""
