"""Rate-limit buckets shared by every replica, in Redis or Dragonfly.

With a cache URL set, N replicas behind a load balancer enforce one limit per caller,
not N: each call's buckets are read, refilled and taken from in one Lua script (atomic
on the server), keyed by caller and kind. The buckets are the in-process
`TokenBucket`'s arithmetic, stored as a hash (`tokens`, `updated`, `capacity`) that
expires once a full bucket would have refilled anyway.

Time comes from the calling replica's wall clock (replicas keep NTP time; a replica
slightly behind only refills a little less). When Redis cannot be reached the limiter
falls back to buckets in process, so the server keeps serving and limiting, per
replica, until Redis answers again (checked again after `backoff_s`).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from dragoman.server.ratelimit import (
    ALLOWED,
    KINDS,
    Decision,
    Limits,
    RateLimiter,
    RateLimitSettings,
    demands,
    refusal,
)

logger = logging.getLogger(__name__)

#: Keys are `<prefix><kind>:<caller>`.
KEY_PREFIX = "dragoman:ratelimit:"

# KEYS: one bucket per kind asked for. ARGV: now, window, then (amount, capacity) per key.
# Returns {0, 0} when every bucket paid, else {index of the refusing key (1-based), wait
# in microseconds (-1: never)}; nothing is taken unless everything is.
_ACQUIRE = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local tokens = {}
for i, key in ipairs(KEYS) do
  local amount = tonumber(ARGV[1 + 2 * i])
  local capacity = tonumber(ARGV[2 + 2 * i])
  if amount > capacity then return {i, -1} end
  local state = redis.call('HMGET', key, 'tokens', 'updated', 'capacity')
  local have = capacity
  if state[1] and tonumber(state[3]) == capacity then
    local elapsed = math.max(0, now - tonumber(state[2]))
    have = math.min(capacity, tonumber(state[1]) + elapsed * capacity / window)
  end
  if have < amount then
    return {i, math.ceil((amount - have) * window / capacity * 1000000)}
  end
  tokens[i] = have - amount
end
for i, key in ipairs(KEYS) do
  local capacity = tonumber(ARGV[2 + 2 * i])
  redis.call('HSET', key, 'tokens', tostring(tokens[i]), 'updated', ARGV[1],
             'capacity', capacity)
  redis.call('PEXPIRE', key, math.ceil(window * 1000) + 1000)
end
return {0, 0}
"""


class SharedRateLimiter:
    """`RateLimiter`'s interface over buckets in Redis, with an in-process fallback.

    Args:
        client: A redis-py client (`redis.Redis.from_url(...)`).
        window_s: The window the budgets count over.
        fallback: The in-process limiter used while Redis fails; its defaults are
            the callers' budgets here too.
        backoff_s: After a failure, how long Redis is left alone.
        clock: Wall-clock seconds (shared between replicas).
    """

    def __init__(
        self,
        client: Any,
        window_s: float,
        fallback: RateLimiter,
        backoff_s: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.window_s = window_s
        self._client = client
        self._script = client.register_script(_ACQUIRE)
        self._fallback = fallback
        self._backoff_s = backoff_s
        self._clock = clock
        self._lock = threading.Lock()
        self._down_until = 0.0

    @classmethod
    def from_settings(cls, settings: RateLimitSettings, url: str) -> SharedRateLimiter:
        """A limiter sharing its buckets through the Redis or Dragonfly at `url`.

        `redis://:password@host:6379/0`, `rediss://` (TLS) and `unix://` URLs work.
        """
        import redis

        client = redis.Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25)
        return cls(client, settings.window_s, RateLimiter.from_settings(settings))

    def acquire(
        self,
        caller: str,
        requests: int = 1,
        characters: int = 0,
        limits: Limits | None = None,
        work: int = 0,
    ) -> Decision:
        """Takes the call's tokens from the shared buckets, or none (see `RateLimiter`)."""
        wanted = demands(self._fallback.effective(limits), requests, characters, work)
        if not wanted:
            return ALLOWED
        if not self._up():
            return self._fallback.acquire(caller, requests, characters, limits, work)
        keys = [_key(caller, kind) for kind, _, _ in wanted]
        args: list[float] = [self._clock(), self.window_s]
        for _, amount, capacity in wanted:
            args += [amount, capacity]
        try:
            index, wait_us = self._script(keys=keys, args=args)
        except Exception as error:  # redis.RedisError, OSError: connection, timeout
            self._failed(error)
            return self._fallback.acquire(caller, requests, characters, limits, work)
        if int(index) == 0:
            return ALLOWED
        kind, amount, capacity = wanted[int(index) - 1]
        wait = math.inf if int(wait_us) < 0 else int(wait_us) / 1e6
        return refusal(kind, amount, capacity, wait, self.window_s)

    def used(self, caller: str, kind: str, limits: Limits | None = None) -> tuple[int, int]:
        """(tokens of `kind` the caller has used in the current window, its budget)."""
        capacity = getattr(self._fallback.effective(limits), kind)
        if capacity <= 0:
            return 0, 0
        if not self._up():
            return self._fallback.used(caller, kind, limits)
        try:
            tokens, updated, stored = self._client.hmget(
                _key(caller, kind), "tokens", "updated", "capacity"
            )
        except Exception as error:
            self._failed(error)
            return self._fallback.used(caller, kind, limits)
        if tokens is None or stored is None or int(float(stored)) != capacity:
            return 0, capacity
        elapsed = max(0.0, self._clock() - float(updated))
        have = min(float(capacity), float(tokens) + elapsed * capacity / self.window_s)
        return capacity - math.floor(have), capacity

    def _up(self) -> bool:
        with self._lock:
            return time.monotonic() >= self._down_until

    def _failed(self, error: BaseException) -> None:
        with self._lock:
            self._down_until = time.monotonic() + self._backoff_s
        logger.warning(
            "shared rate limits unavailable (%s): limiting in process for %.0f s",
            error,
            self._backoff_s,
        )


def _key(caller: str, kind: str) -> str:
    assert kind in KINDS
    return f"{KEY_PREFIX}{kind}:{caller}"
