"""The bound on RPCs served at once (`max_concurrent_rpcs`).

gRPC's own `maximum_concurrent_rpcs` counts every call, health checks included, so a
server saturated by long streams would fail its probes and be restarted for being
busy. This limit counts translation and other application RPCs only; health checks,
reflection and admin calls are exempt, and the thread pool keeps `RESERVED_THREADS`
threads beyond the limit for them. A call over the limit gets RESOURCE_EXHAUSTED at
once (with a RetryInfo) instead of waiting in the pool's queue.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import grpc
from dragoman.server.auth import ADMIN_SERVICES, OPEN_SERVICES, service_of
from dragoman.server.guard import resource_exhausted_status
from dragoman.server.interceptors import CallInterceptor

logger = logging.getLogger(__name__)

#: Worker threads kept free of limited RPCs, for health checks, reflection and admin.
RESERVED_THREADS = 4
#: Retry delay suggested to callers refused by the limit.
RETRY_AFTER_S = 1.0
_EXEMPT = OPEN_SERVICES | ADMIN_SERVICES


def plan_threads(workers: int, max_concurrent_rpcs: int) -> tuple[int, int]:
    """(limit, thread pool size) for the settings `workers` and `max_concurrent_rpcs`.

    The limit defaults to `workers`; the pool has `RESERVED_THREADS` threads more than
    the larger of the two, so that exempt calls always find a free thread.
    """
    limit = max_concurrent_rpcs or workers
    return limit, max(workers, limit) + RESERVED_THREADS


class ConcurrencyLimit(CallInterceptor):
    """Refuses application RPCs beyond `limit` in flight with RESOURCE_EXHAUSTED.

    Args:
        limit: RPCs served at once (an open stream counts until it ends).
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("the concurrent RPC limit must be at least 1")
        self.limit = limit
        self._lock = threading.Lock()
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        """Limited RPCs running now."""
        with self._lock:
            return self._in_flight

    def applies_to(self, method: str) -> bool:
        """Everything but health, reflection and admin."""
        return service_of(method) not in _EXEMPT

    @contextmanager
    def scope(self, method: str, context: grpc.ServicerContext) -> Iterator[None]:
        """Admits the RPC if a slot is free, holding it until the RPC ends."""
        with self._lock:
            admitted = self._in_flight < self.limit
            if admitted:
                self._in_flight += 1
        if not admitted:
            logger.info("refused %s: %d RPCs in flight", method, self.limit)
            context.abort_with_status(
                resource_exhausted_status(
                    f"the server is serving its maximum of {self.limit} concurrent RPCs; "
                    "retry with backoff or on another replica",
                    RETRY_AFTER_S,
                )
            )
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1
