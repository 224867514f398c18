"""Retries with exponential backoff and full jitter, only where retrying is safe.

Only UNAVAILABLE (server gone, draining or circuit open) and RESOURCE_EXHAUSTED (queue
full, rate limited) are retried: translation has no side effects, and with round_robin
the next attempt goes to another server. Every other code is the caller's to fix. When
the server says how long to wait (a `google.rpc.RetryInfo` in the status details, as the
rate limiter sends), the client waits at least that long, or gives up at once when that
is beyond the call's deadline.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

import grpc
import tenacity
from google.rpc import error_details_pb2, status_pb2

#: Status codes a call is retried on.
RETRYABLE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED})


@dataclass(frozen=True)
class RetryPolicy:
    """When and how fast to retry.

    Attributes:
        max_attempts: Attempts per call, the first included (1 disables retries).
            Stream reconnects count these per segment without progress.
        initial_backoff_s: Upper bound of the first wait; waits are drawn uniformly
            from [0, bound] ("full jitter") and the bound doubles per attempt.
        max_backoff_s: Largest bound.
        codes: Status codes that are retried.
    """

    max_attempts: int = 6
    initial_backoff_s: float = 0.05
    max_backoff_s: float = 2.0
    codes: frozenset[grpc.StatusCode] = RETRYABLE_CODES

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {self.max_attempts}")

    def is_retryable(self, error: BaseException) -> bool:
        """True for an RPC error whose status code is retried."""
        code = getattr(error, "code", None)
        return isinstance(error, grpc.RpcError) and callable(code) and code() in self.codes

    def backoff(self, attempt: int, error: BaseException | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based), jittered.

        At least the server's RetryInfo delay when `error` carries one.
        """
        bound = min(self.max_backoff_s, self.initial_backoff_s * 2 ** max(0, attempt - 1))
        return max(random.uniform(0, bound), retry_delay(error) or 0.0)

    def _tenacity_args(self, deadline: float | None, stats: ClientStats) -> dict[str, object]:
        def stop(state: tenacity.RetryCallState) -> bool:
            if state.attempt_number >= self.max_attempts:
                return True
            if deadline is None:
                return False
            hint = retry_delay(state.outcome.exception() if state.outcome else None) or 0.0
            return time.monotonic() + hint >= deadline

        def wait(state: tenacity.RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            pause = self.backoff(state.attempt_number, error)
            if deadline is not None:
                pause = max(0.0, min(pause, deadline - time.monotonic()))
            return pause

        return {
            "stop": stop,
            "wait": wait,
            "retry": tenacity.retry_if_exception(self.is_retryable),
            "before_sleep": lambda _state: stats.add(retries=1),
            "reraise": True,
        }

    def retrying(self, deadline: float | None, stats: ClientStats) -> tenacity.Retrying:
        """A tenacity controller for one sync call ending at `deadline` (monotonic)."""
        return tenacity.Retrying(**self._tenacity_args(deadline, stats))  # type: ignore[arg-type]

    def async_retrying(self, deadline: float | None, stats: ClientStats) -> tenacity.AsyncRetrying:
        """A tenacity controller for one asyncio call ending at `deadline` (monotonic)."""
        return tenacity.AsyncRetrying(**self._tenacity_args(deadline, stats))  # type: ignore[arg-type]


def retry_delay(error: BaseException | None) -> float | None:
    """The server's RetryInfo delay in seconds, from an RPC error's trailers, if any."""
    trailers_fn = getattr(error, "trailing_metadata", None)
    if not callable(trailers_fn):
        return None
    for key, value in trailers_fn() or ():
        if key != "grpc-status-details-bin" or not isinstance(value, bytes):
            continue
        status = status_pb2.Status.FromString(value)
        for detail in status.details:
            info = error_details_pb2.RetryInfo()
            if detail.Unpack(info):
                return float(info.retry_delay.ToNanoseconds()) / 1e9
    return None


@dataclass
class ClientStats:
    """Counters of one client, safe to read from any thread.

    Attributes:
        calls: Calls started (a stream counts once).
        retries: Unary attempts repeated after a retryable error.
        stream_reconnects: Streams reopened after a retryable error, with the
            unanswered segments sent again.
    """

    calls: int = 0
    retries: int = 0
    stream_reconnects: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, calls: int = 0, retries: int = 0, stream_reconnects: int = 0) -> None:
        """Adds to the counters."""
        with self._lock:
            self.calls += calls
            self.retries += retries
            self.stream_reconnects += stream_reconnects
