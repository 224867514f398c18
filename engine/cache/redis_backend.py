"""Redis / Dragonfly back-end of the translation cache.

Values are sealed (`Sealer`: an HMAC of key and value under the deployment secret),
so a value another client wrote, moved or corrupted is a counted miss. `redis://`
URLs may carry a password (`redis://:password@host:6379/0`, AUTH) and `rediss://`
ones use TLS (`?ssl_cert_reqs=required&ssl_ca_certs=/path/ca.pem`); logs show the
URL without its password.

One request costs at most two round trips: one MGET for every sentence, one
pipelined batch of `SET key value EX ttl` for the misses. Commands have short socket
timeouts and a small tenacity retry. When Redis fails anyway, the cache steps aside
for a backoff window (lookups miss, stores are skipped, translations keep flowing,
a metric and one log line say so); the first call after the window probes Redis
again, so the cache resumes by itself when Redis returns, without blocking every
call while it is down.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import redis
from dragoman.engine.cache.base import CacheConfig, CacheObserver, CacheStats
from dragoman.engine.cache.keys import KEY_PREFIX, Sealer
from redis.backoff import NoBackoff
from redis.retry import Retry
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

logger = logging.getLogger(__name__)

T = TypeVar("T")

_TRANSIENT = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class RedisCache:
    """Translation cache in Redis or Dragonfly, bypassed while the server is down."""

    backend = "redis"

    def __init__(
        self,
        config: CacheConfig,
        observer: CacheObserver | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Creates the client; connects lazily, so a down Redis does not stop start-up.

        Args:
            config: `url`, timeouts, `retries`, backoff, `ttl_seconds` and
                `max_value_bytes` apply.
            observer: Receives lookup counts, errors, bypasses and availability changes.
            clock: Monotonic clock (tests may pass their own).
        """
        self._config = config
        self._observer = observer or CacheObserver()
        self._clock = clock
        # redis-py's own retries would block for seconds with its default backoff;
        # tenacity below is the single, small retry layer.
        self._client: Any = redis.Redis.from_url(
            config.url,
            socket_timeout=config.socket_timeout,
            socket_connect_timeout=config.connect_timeout,
            retry=Retry(NoBackoff(), 0),
            decode_responses=True,
        )
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._backoff = config.backoff_seconds
        self._available = True
        self._hits = self._misses = self._errors = self._bypassed = self._rejected = 0
        self._bound_checked = False
        self._sealer = Sealer(config.secret)
        if not self._sealer.shared:
            logger.warning(
                "no cache secret is set (DRAGOMAN_CACHE_SECRET): values in %s are "
                "authenticated with a per-process key, so replicas do not share entries; "
                "give every replica the same secret",
                self._safe_url(),
            )

    # --- the protocol ---------------------------------------------------------------

    def get_many(self, keys: Sequence[str]) -> list[str | None]:
        """Returns the cached value of each key (one MGET), or all None while Redis is down."""
        if not keys:
            return []
        values: list[str | None] = [None] * len(keys)
        if self._bypassing("get", len(keys)):
            self._count_lookup(0, len(keys))
            return values
        result = self._call("get", lambda: self._client.mget(list(keys)))
        rejected = 0
        if result is not None:
            for index, (key, sealed) in enumerate(zip(keys, result, strict=True)):
                if sealed is None:
                    continue
                values[index] = self._sealer.open(key, sealed)
                rejected += values[index] is None
        if rejected:
            with self._lock:
                self._rejected += rejected
            logger.warning("refused %d cached values that failed authentication", rejected)
            self._observer.on_rejected(self.backend, rejected)
        hits = sum(value is not None for value in values)
        self._count_lookup(hits, len(values) - hits)
        return values

    def set_many(self, items: Mapping[str, str]) -> None:
        """Stores the items in one pipelined batch of SET EX; skipped while Redis is down."""
        limit = self._config.max_value_bytes
        kept = {
            k: self._sealer.seal(k, v) for k, v in items.items() if len(v.encode("utf-8")) <= limit
        }
        if not kept or self._bypassing("set", len(kept)):
            return
        ttl = self._config.ttl_seconds
        expire_ms = int(ttl * 1000) if ttl > 0 else None

        def store() -> None:
            pipe = self._client.pipeline(transaction=False)
            for key, value in kept.items():
                pipe.set(key, value, px=expire_ms)
            pipe.execute()

        self._call("set", store)

    def stats(self) -> CacheStats:
        """Returns the counters and the number of dragoman keys in Redis (-1 if down)."""
        entries = -1
        if not self._bypassing("stats", 0):
            counted = self._call("stats", self._count_keys)
            entries = -1 if counted is None else counted
        with self._lock:
            return CacheStats(
                backend=self.backend,
                hits=self._hits,
                misses=self._misses,
                errors=self._errors,
                bypassed=self._bypassed,
                entries=entries,
                max_entries=0,
                ttl_seconds=self._config.ttl_seconds,
                available=self._available,
                rejected=self._rejected,
            )

    def clear(self) -> int:
        """Deletes every dragoman key (SCAN + UNLINK, other keys untouched); -1 if down."""
        removed = self._call("clear", self._unlink_all)
        return -1 if removed is None else removed

    # --- helpers -----------------------------------------------------------------

    def _count_keys(self) -> int:
        return sum(1 for _ in self._client.scan_iter(match=KEY_PREFIX + "*", count=1000))

    def _unlink_all(self) -> int:
        removed = 0
        batch: list[str] = []
        for key in self._client.scan_iter(match=KEY_PREFIX + "*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                removed += int(self._client.unlink(*batch))
                batch = []
        if batch:
            removed += int(self._client.unlink(*batch))
        return removed

    def _count_lookup(self, hits: int, misses: int) -> None:
        with self._lock:
            self._hits += hits
            self._misses += misses
        self._observer.on_lookup(self.backend, hits, misses)

    def _bypassing(self, operation: str, count: int) -> bool:
        """True while inside the backoff window after a failure."""
        with self._lock:
            down = self._clock() < self._down_until
            if down:
                self._bypassed += count
        if down and count:
            self._observer.on_bypass(self.backend, operation, count)
        return down

    def _call(self, operation: str, fn: Callable[[], T]) -> T | None:
        """Runs `fn` with retries; on failure records it, opens the window, returns None."""
        retrying = Retrying(
            stop=stop_after_attempt(1 + max(0, self._config.retries)),
            wait=wait_exponential(multiplier=0.005, max=0.05),
            retry=retry_if_exception_type(_TRANSIENT),
            reraise=True,
        )
        try:
            result = retrying(fn)
        except redis.exceptions.RedisError as exc:
            self._failed(operation, exc)
            return None
        self._succeeded()
        return result

    def _failed(self, operation: str, exc: Exception) -> None:
        with self._lock:
            self._errors += 1
            self._down_until = self._clock() + self._backoff
            window = self._backoff
            self._backoff = min(self._backoff * 2, self._config.max_backoff_seconds)
            was_available, self._available = self._available, False
        self._observer.on_error(self.backend, operation)
        if was_available:
            logger.warning(
                "translation cache unavailable (%s failed: %s); bypassing it for %.1fs "
                "and translating without it",
                operation,
                exc,
                window,
            )
            self._observer.on_availability(self.backend, False)
        else:
            logger.debug("translation cache still unavailable; next probe in %.1fs", window)

    def _succeeded(self) -> None:
        with self._lock:
            was_available, self._available = self._available, True
            self._backoff = self._config.backoff_seconds
            check_bound, self._bound_checked = not self._bound_checked, True
        if check_bound:
            self._warn_if_unbounded()
        if not was_available:
            logger.info("translation cache available again (%s)", self._safe_url())
            self._observer.on_availability(self.backend, True)

    def _warn_if_unbounded(self) -> None:
        """Warns once when the server has no memory bound (entries would pile up)."""
        try:
            limit = self._client.config_get("maxmemory").get("maxmemory")
        except redis.exceptions.RedisError:
            return  # CONFIG may be disabled or renamed: nothing to say
        if str(limit) == "0":
            logger.warning(
                "the cache's Redis at %s has no maxmemory: bound it (maxmemory and "
                "maxmemory-policy allkeys-lru) or it grows until the TTL expires entries",
                self._safe_url(),
            )

    def _safe_url(self) -> str:
        """The URL without its password, for logs."""
        pool = self._client.connection_pool
        kwargs = pool.connection_kwargs
        if "path" in kwargs:
            return f"unix://{kwargs['path']}"
        scheme = "rediss" if "ssl" in pool.connection_class.__name__.lower() else "redis"
        return f"{scheme}://{kwargs.get('host')}:{kwargs.get('port')}/{kwargs.get('db', 0)}"
