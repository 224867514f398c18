"""Bounds on calls served at once: in all, per caller, and streams per caller.

`Slots` is transport-neutral: the gRPC edge and the HTTP front end hold one slot per
call (through `AccessControl.hold`) from before the request is read until the call
ends, so that neither slow nor idle callers, nor one caller alone, can take every
slot. Each class of call has its own `Slots` (translation, probes, admin), and its
own threads (server/edge.py), so that health checks answer while translation slots
are full. A call over a bound is refused at once with RESOURCE_EXHAUSTED and a
RetryInfo, instead of waiting in a queue.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from dragoman.server.ratelimit import Decision, RateLimited

logger = logging.getLogger(__name__)

#: Retry delay suggested to callers refused by a bound.
RETRY_AFTER_S = 1.0


@dataclass(frozen=True)
class SlotLimits:
    """Calls held at once; 0 for a per-caller bound means none.

    Attributes:
        total: Calls of this class in all.
        per_caller: Calls of one caller (an API key, or a peer address).
        streams_per_caller: Streaming calls of one caller.
    """

    total: int
    per_caller: int = 0
    streams_per_caller: int = 0


class Slots:
    """Counts calls held now and refuses those beyond `SlotLimits`.

    Args:
        limits: The bounds.
        what: What the calls are, for messages ("translation calls").
    """

    def __init__(self, limits: SlotLimits, what: str = "calls") -> None:
        if limits.total < 1:
            raise ValueError("a slot limit must be at least 1")
        self.limits = limits
        self.what = what
        self._lock = threading.Lock()
        self._total = 0
        self._calls: Counter[str] = Counter()
        self._streams: Counter[str] = Counter()

    @property
    def in_flight(self) -> int:
        """Calls held now."""
        with self._lock:
            return self._total

    def held_by(self, caller: str) -> tuple[int, int]:
        """(calls, streams) `caller` holds now."""
        with self._lock:
            return self._calls[caller], self._streams[caller]

    @contextmanager
    def hold(self, caller: str, streaming: bool = False) -> Iterator[None]:
        """Holds a slot for the block.

        Args:
            caller: Who calls; "" is bound by the total only (the admin token).
            streaming: The call is a stream (also counts against `streams_per_caller`).

        Raises:
            RateLimited: A bound is reached (`decision.limit` names it).
        """
        self._take(caller, streaming)
        try:
            yield
        finally:
            self._give(caller, streaming)

    def _take(self, caller: str, streaming: bool) -> None:
        limits = self.limits
        with self._lock:
            if self._total >= limits.total:
                kind = "concurrency"
            elif caller and limits.per_caller and self._calls[caller] >= limits.per_caller:
                kind = "caller_concurrency"
            elif (
                caller
                and streaming
                and limits.streams_per_caller
                and self._streams[caller] >= limits.streams_per_caller
            ):
                kind = "caller_streams"
            else:
                self._total += 1
                if caller:
                    self._calls[caller] += 1
                    if streaming:
                        self._streams[caller] += 1
                return
        message = {
            "concurrency": f"the server is serving its maximum of {limits.total} concurrent "
            f"{self.what}; retry with backoff or on another replica",
            "caller_concurrency": f"you already have {limits.per_caller} {self.what} in "
            "flight, the most one caller may; retry when one has ended",
            "caller_streams": f"you already have {limits.streams_per_caller} streams open, "
            "the most one caller may; close one you no longer need, then retry",
        }[kind]
        logger.info("refused a call of %s: %s", caller or "admin", message)
        raise RateLimited(Decision(False, kind, RETRY_AFTER_S, message), caller)

    def _give(self, caller: str, streaming: bool) -> None:
        with self._lock:
            self._total -= 1
            if caller:
                _decrement(self._calls, caller)
                if streaming:
                    _decrement(self._streams, caller)


def _decrement(counter: Counter[str], key: str) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]  # idle callers leave no entry behind
