"""How a caller waits for its segments: without polling, until done, deadline or cancel.

A caller sleeps on an event that the last of its futures sets, or that its
`CallContext`'s `CancelEvent` sets when it cancels; only its deadline bounds the sleep.
A plain `threading.Event` (no listeners) is looked at every `_PLAIN_EVENT_POLL_SECONDS`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from typing import TYPE_CHECKING

from dragoman.engine.errors import Cancelled, DeadlineExceeded
from dragoman.engine.observer import StatsCounter
from dragoman.engine.types import CallContext, CancelEvent

if TYPE_CHECKING:
    from dragoman.engine.model import SegmentResult

#: How often a caller whose `cancelled` is a plain threading.Event looks at it.
_PLAIN_EVENT_POLL_SECONDS = 0.25


def check_context(ctx: CallContext, stats: StatsCounter | None = None) -> None:
    """Raises when the caller has cancelled or its deadline has passed."""
    if ctx.cancelled.is_set():
        if stats:
            stats.add(cancelled=1)
        raise Cancelled("the caller cancelled the request")
    if ctx.deadline is not None and time.monotonic() >= ctx.deadline:
        if stats:
            stats.add(deadline_exceeded=1)
        raise DeadlineExceeded("the deadline passed before the translation was done")


@contextmanager
def waiting(
    futures: Sequence[Future[SegmentResult]], ctx: CallContext, wake: Callable[[], None]
) -> Iterator[None]:
    """The scope of a caller waiting on its segments: `wake` is called when the caller
    cancels (no polling), and the futures are cancelled if the wait ends in an error
    (deadline, cancellation), so their queued segments are skipped."""
    unsubscribe = ctx.cancelled.subscribe(wake) if isinstance(ctx.cancelled, CancelEvent) else None
    try:
        yield
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    finally:
        if unsubscribe is not None:
            unsubscribe()


def wait_timeout(ctx: CallContext) -> float | None:
    """How long a waiter may sleep before it must look at `ctx` again."""
    timeout = None if isinstance(ctx.cancelled, CancelEvent) else _PLAIN_EVENT_POLL_SECONDS
    if ctx.deadline is not None:
        left = max(ctx.deadline - time.monotonic(), 0.0)
        timeout = left if timeout is None else min(timeout, left)
    return timeout


def wait_for(
    futures: Sequence[Future[SegmentResult]], ctx: CallContext, stats: StatsCounter
) -> list[SegmentResult]:
    """Waits for every future, giving up (and cancelling them) on deadline or cancellation."""
    done = threading.Event()
    pending = [len(futures)]
    lock = threading.Lock()

    def finished(_: Future[SegmentResult]) -> None:
        with lock:
            pending[0] -= 1
            if pending[0] == 0:
                done.set()

    if not futures:
        done.set()
    for future in futures:
        future.add_done_callback(finished)
    with waiting(futures, ctx, done.set):
        while not done.is_set():
            check_context(ctx, stats)
            done.wait(wait_timeout(ctx))
        check_context(ctx, stats)
        return [future.result() for future in futures]
