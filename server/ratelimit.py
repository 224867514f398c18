"""Per-caller rate limits: requests, characters and decoding work per window.

Each caller (an API key id, or the peer address when auth is off) has three token
buckets, each refilled evenly over the window: `requests` (one per call),
`characters` (one per input character) and `work` (the decoding the call asks for:
output tokens times hypotheses, plus glossary entries; see `access.translation_work`).
A call is admitted only when every bucket can pay, so a refused call costs nothing.

`RateLimiter` keeps the buckets in process; with a cache URL set, the server shares
them between replicas through Redis (server/ratelimit_redis.py), so that N replicas
enforce one limit, not N.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cachetools import LRUCache
from pydantic import BaseModel, Field


class RateLimitSettings(BaseModel):
    """Per-caller rate limits (RESOURCE_EXHAUSTED with RetryInfo beyond them).

    Attributes:
        enabled: Enforce the limits.
        window_s: Length of the window the limits count over, in seconds.
        requests: Requests per window per caller; 0 = unlimited. An API key's own
            `request_limit` overrides it.
        characters: Input characters per window per caller; 0 = unlimited. An API
            key's own `character_limit` overrides it.
        work: Decoding work units per window per caller (one unit is one output token
            of one hypothesis: a beam of 4 over 100 tokens is 400; each glossary or
            do-not-translate entry adds one); 0 = unlimited.
        shared: Share the buckets between replicas through the cache's Redis or
            Dragonfly when a cache URL is set (in process otherwise, or if it fails).
        max_callers: Callers whose buckets are remembered (least recently seen
            forgotten first).
    """

    enabled: bool = False
    window_s: float = Field(default=60.0, gt=0)
    requests: int = Field(default=600, ge=0)
    characters: int = Field(default=1_000_000, ge=0)
    work: int = Field(default=4_000_000, ge=0)
    shared: bool = True
    max_callers: int = Field(default=100_000, ge=1)


#: The budgets, in the order a call pays them.
KINDS = ("requests", "characters", "work")


@dataclass(frozen=True)
class Limits:
    """Budgets per window; 0 means unlimited."""

    requests: int = 0
    characters: int = 0
    work: int = 0


@dataclass(frozen=True)
class Decision:
    """The outcome of `RateLimiter.acquire`.

    Attributes:
        allowed: The call may proceed (its tokens are taken).
        limit: Which budget refused it: `requests` or `characters`; empty if allowed.
        retry_after_s: Seconds until the call would be admitted; None when it never
            can (it asks for more than a whole window's budget).
        message: What the caller should do, for the status details.
    """

    allowed: bool
    limit: str = ""
    retry_after_s: float | None = 0.0
    message: str = ""


ALLOWED = Decision(allowed=True)


class RateLimited(Exception):
    """A call refused by a limit on what a caller may use (RESOURCE_EXHAUSTED).

    Attributes:
        decision: Which budget refused it, when to retry, and the message.
        caller: Whose budget it was.
    """

    def __init__(self, decision: Decision, caller: str) -> None:
        super().__init__(decision.message)
        self.decision = decision
        self.caller = caller


#: What each budget counts, for refusal messages.
_UNITS = {
    "requests": "requests",
    "characters": "characters",
    "work": "work units (output tokens x hypotheses, plus glossary entries)",
}
#: What a caller can change when one call alone exceeds a budget.
_SPLIT = {
    "requests": "split it into smaller calls",
    "characters": "split it into smaller calls",
    "work": "lower beam_size, num_alternatives or max_output_tokens, or split it",
}


def refusal(kind: str, amount: int, capacity: int, wait: float, window_s: float) -> Decision:
    """The decision for a call that `kind`'s bucket cannot pay for `wait` seconds."""
    window = f"{window_s:g} s"
    if math.isinf(wait):
        return Decision(
            allowed=False,
            limit=kind,
            retry_after_s=None,
            message=(
                f"this call needs {amount:,} {_UNITS[kind]} but the limit is {capacity:,} "
                f"per {window}: {_SPLIT[kind]}"
            ),
        )
    return Decision(
        allowed=False,
        limit=kind,
        retry_after_s=wait,
        message=(
            f"rate limit of {capacity:,} {kind} per {window} reached: "
            f"retry in {math.ceil(wait * 10) / 10:g} s"
        ),
    )


class Limiter(Protocol):
    """What access control needs of a rate limiter (in process or shared)."""

    window_s: float

    def acquire(
        self,
        caller: str,
        requests: int = 1,
        characters: int = 0,
        limits: Limits | None = None,
        work: int = 0,
    ) -> Decision:
        """Takes the call's tokens from the caller's buckets, or none."""
        ...

    def used(self, caller: str, kind: str, limits: Limits | None = None) -> tuple[int, int]:
        """(tokens of `kind` used in the current window, the caller's budget)."""
        ...


class TokenBucket:
    """Holds up to `capacity` tokens, refilled at `capacity / window_s` per second."""

    def __init__(self, capacity: int, window_s: float, now: float) -> None:
        self.capacity = capacity
        self._rate = capacity / window_s
        self._tokens = float(capacity)
        self._updated = now

    def wait_time(self, amount: int, now: float) -> float:
        """Seconds until `amount` tokens are available (0: now; inf: never)."""
        if amount > self.capacity:
            return math.inf
        self._refill(now)
        missing = amount - self._tokens
        return 0.0 if missing <= 0 else missing / self._rate

    def available(self, now: float) -> float:
        """Tokens in the bucket now."""
        self._refill(now)
        return self._tokens

    def take(self, amount: int, now: float) -> None:
        """Removes `amount` tokens; call after `wait_time` said 0."""
        self._refill(now)
        self._tokens -= amount

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(float(self.capacity), self._tokens + elapsed * self._rate)
        self._updated = now


class RateLimiter:
    """Token buckets per caller, safe to share between threads.

    Args:
        window_s: The window the budgets count over.
        default: Budgets of callers without their own.
        max_callers: Buckets kept (LRU).
        clock: Monotonic seconds.
    """

    def __init__(
        self,
        window_s: float,
        default: Limits,
        max_callers: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window_s = window_s
        self.default = default
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: LRUCache[tuple[str, str], TokenBucket] = LRUCache(maxsize=max_callers * 2)

    @classmethod
    def from_settings(cls, settings: RateLimitSettings) -> RateLimiter:
        """Builds a limiter from `RateLimitSettings`."""
        return cls(settings.window_s, default_limits(settings), max_callers=settings.max_callers)

    def effective(self, override: Limits | None) -> Limits:
        """A caller's budgets: its own where set (non-zero), else the defaults."""
        return effective_limits(self.default, override)

    def acquire(
        self,
        caller: str,
        requests: int = 1,
        characters: int = 0,
        limits: Limits | None = None,
        work: int = 0,
    ) -> Decision:
        """Takes `requests`, `characters` and `work` tokens from the caller's buckets, or none.

        Args:
            caller: Whose budget pays (an API key id or a peer address).
            requests: Request tokens wanted (1 per call, 0 for a stream's segments).
            characters: Character tokens wanted.
            limits: The caller's own budgets (zero fields fall back to the defaults).
            work: Decoding work units wanted.
        """
        wanted = demands(self.effective(limits), requests, characters, work)
        with self._lock:
            now = self._clock()
            buckets = []
            for kind, amount, capacity in wanted:
                bucket = self._bucket(caller, kind, capacity, now)
                wait = bucket.wait_time(amount, now)
                if wait > 0:
                    return refusal(kind, amount, capacity, wait, self.window_s)
                buckets.append((bucket, amount))
            for bucket, amount in buckets:
                bucket.take(amount, now)
        return ALLOWED

    def used(self, caller: str, kind: str, limits: Limits | None = None) -> tuple[int, int]:
        """(tokens of `kind` the caller has used in the current window, its budget).

        Used means taken and not refilled yet; the budget is 0 when `kind` is unlimited.
        """
        capacity = getattr(self.effective(limits), kind)
        if capacity <= 0:
            return 0, 0
        with self._lock:
            bucket = self._buckets.get((caller, kind))
            if bucket is None or bucket.capacity != capacity:
                return 0, capacity
            return capacity - math.floor(bucket.available(self._clock())), capacity

    def _bucket(self, caller: str, kind: str, capacity: int, now: float) -> TokenBucket:
        bucket = self._buckets.get((caller, kind))
        if bucket is None or bucket.capacity != capacity:
            bucket = TokenBucket(capacity, self.window_s, now)
            self._buckets[(caller, kind)] = bucket
        return bucket


def default_limits(settings: RateLimitSettings) -> Limits:
    """The budgets of callers without their own."""
    return Limits(settings.requests, settings.characters, settings.work)


def effective_limits(default: Limits, override: Limits | None) -> Limits:
    """A caller's budgets: its own where set (non-zero), else `default`'s."""
    if override is None:
        return default
    return Limits(*(getattr(override, k) or getattr(default, k) for k in KINDS))


def demands(
    budgets: Limits, requests: int, characters: int, work: int
) -> list[tuple[str, int, int]]:
    """(kind, amount, capacity) of each limited budget a call asks something of."""
    amounts = (requests, characters, work)
    wanted = zip(KINDS, amounts, (getattr(budgets, k) for k in KINDS), strict=True)
    return [
        (kind, amount, capacity) for kind, amount, capacity in wanted if capacity > 0 and amount > 0
    ]
