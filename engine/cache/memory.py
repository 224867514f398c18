"""The in-process back-end: an LRU with a TTL, bounded by bytes and by entry count."""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from cachetools import LRUCache, TTLCache
from dragoman.engine.cache.base import CacheConfig, CacheObserver, CacheStats


def _entry_bytes(value: tuple[str, str]) -> int:
    """Memory of one entry (its key and value), as Python holds them."""
    return sys.getsizeof(value[0]) + sys.getsizeof(value[1])


class MemoryCache:
    """In-process LRU cache with a TTL (cachetools), bounded by bytes and entries.

    Values never leave the process, so they are not sealed.
    """

    backend = "memory"

    def __init__(self, config: CacheConfig, observer: CacheObserver | None = None) -> None:
        """Creates the cache.

        Args:
            config: `max_bytes`, `max_entries`, `ttl_seconds` and `max_value_bytes` apply.
            observer: Receives lookup counts.
        """
        self._config = config
        self._observer = observer or CacheObserver()
        self._lock = threading.Lock()
        # Entries are (key, value) pairs so that the size function sees both.
        data: Any = (
            TTLCache(maxsize=config.max_bytes, ttl=config.ttl_seconds, getsizeof=_entry_bytes)
            if config.ttl_seconds > 0
            else LRUCache(maxsize=config.max_bytes, getsizeof=_entry_bytes)
        )
        self._data: LRUCache[str, tuple[str, str]] = data
        self._hits = 0
        self._misses = 0

    def get_many(self, keys: Sequence[str]) -> list[str | None]:
        """Returns the cached value of each key, or None."""
        with self._lock:
            entries = [self._data.get(key) for key in keys]
            values = [entry[1] if entry is not None else None for entry in entries]
            hits = sum(value is not None for value in values)
            self._hits += hits
            self._misses += len(values) - hits
        self._observer.on_lookup(self.backend, hits, len(values) - hits)
        return values

    def set_many(self, items: Mapping[str, str]) -> None:
        """Stores the items that fit `max_value_bytes`, evicting the least recently used
        entries beyond `max_bytes` or `max_entries`."""
        limit = self._config.max_value_bytes
        with self._lock:
            for key, value in items.items():
                # A UTF-8 character takes at most 4 bytes: skip encoding short values.
                if len(value) * 4 > limit and len(value.encode("utf-8")) > limit:
                    continue
                try:
                    self._data[key] = (key, value)
                except ValueError:
                    continue  # larger than the whole cache
                while len(self._data) > self._config.max_entries:
                    self._data.popitem()

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

    @property
    def bytes(self) -> int:
        """Memory held by the entries now (keys and values)."""
        with self._lock:
            return int(self._data.currsize)

    def clear(self) -> int:
        """Removes every entry; returns how many there were."""
        with self._lock:
            count = len(self._data)
            self._data.clear()
        return count
