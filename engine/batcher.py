"""Cross-request batching: a bounded queue per model and worker threads.

Callers submit segments with their `CallContext`; workers take the oldest segment,
wait up to `max_wait_ms` for company, gather queued segments that decode with the
same options up to the token budget, sort them by length and run one CTranslate2
batch. A full queue refuses work (`Overloaded`) instead of growing; a caller whose
deadline passes or who cancels stops waiting, and their queued segments are skipped.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from dragoman.engine.config import BatchingConfig
from dragoman.engine.errors import Cancelled, DeadlineExceeded, Overloaded, ShuttingDown
from dragoman.engine.observer import EngineObserver, StatsCounter
from dragoman.engine.types import CallContext, DecodingOptions

logger = logging.getLogger(__name__)

# run(sources, prefixes, options) -> one result (with .hypotheses) per source
Tokens = Sequence[Sequence[str]]
RunBatch = Callable[[Tokens, Tokens, DecodingOptions], list[Any]]
_POLL_SECONDS = 0.05


@dataclass
class _Work:
    source: Sequence[str]
    prefix: Sequence[str]
    options: DecodingOptions
    request: int
    ctx: CallContext
    enqueued: float = field(default_factory=time.monotonic)
    future: Future[Any] = field(default_factory=Future)


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


def wait_for(futures: Sequence[Future[Any]], ctx: CallContext, stats: StatsCounter) -> list[Any]:
    """Waits for every future, giving up (and cancelling them) on deadline or cancellation."""
    results = []
    try:
        for future in futures:
            while True:
                check_context(ctx, stats)
                timeout = _POLL_SECONDS
                if ctx.deadline is not None:
                    timeout = max(min(timeout, ctx.deadline - time.monotonic()), 0.0)
                try:
                    results.append(future.result(timeout=timeout))
                    break
                except TimeoutError:
                    continue
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    return results


class Batcher:
    """Merges segments of concurrent requests of one model into CTranslate2 batches."""

    def __init__(
        self,
        model: str,
        run: RunBatch,
        config: BatchingConfig,
        stats: StatsCounter,
        observer: EngineObserver,
        workers: int = 1,
    ) -> None:
        self._model = model
        self._run = run
        self._config = config
        self._stats = stats
        self._observer = observer
        self._queue: deque[_Work] = deque()
        self._cond = threading.Condition()
        self._closing = False
        self._requests = itertools.count(1)
        # Requests in the last batch (see _wait_seconds).
        self._last_batch_requests = 1
        self._threads = [
            threading.Thread(target=self._loop, name=f"batcher-{model}-{i}", daemon=True)
            for i in range(max(workers, 1) if config.enabled else 0)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def depth(self) -> int:
        """Segments waiting now."""
        return len(self._queue)

    def translate(
        self,
        sources: Sequence[Sequence[str]],
        prefixes: Sequence[Sequence[str]],
        options: DecodingOptions,
        ctx: CallContext,
    ) -> list[Any]:
        """Translates the segments of one request; returns one CT2 result per source.

        Raises:
            Overloaded: The queue cannot take the segments.
            DeadlineExceeded, Cancelled: The caller ran out of time or went away.
            ShuttingDown: The batcher is closing.
        """
        check_context(ctx, self._stats)
        if not sources:
            return []
        if not self._config.enabled:
            return self._run_direct(sources, prefixes, options)
        request = next(self._requests)
        work = [_Work(s, p, options, request, ctx) for s, p in zip(sources, prefixes, strict=True)]
        with self._cond:
            if self._closing:
                raise ShuttingDown("the server is shutting down; retry on another replica")
            # An empty queue takes any request, so one larger than the bound still runs.
            if self._queue and len(self._queue) + len(work) > self._config.max_queue_segments:
                self._stats.add(overloaded=1)
                raise Overloaded(
                    f"the translation queue of model {self._model!r} is full "
                    f"({len(self._queue)} of {self._config.max_queue_segments} segments waiting, "
                    f"this request has {len(work)}); retry later with backoff"
                )
            self._queue.extend(work)
            self._cond.notify_all()
            depth = len(self._queue)
        self._observer.on_queue_depth(self._model, depth)
        return wait_for([w.future for w in work], ctx, self._stats)

    def _run_direct(
        self,
        sources: Sequence[Sequence[str]],
        prefixes: Sequence[Sequence[str]],
        options: DecodingOptions,
    ) -> list[Any]:
        """Batching off: this request's segments alone, in budget-sized chunks."""
        if self._closing:
            raise ShuttingDown("the server is shutting down; retry on another replica")
        order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
        results: list[Any] = [None] * len(sources)
        for chunk in self._chunks(order, [len(s) for s in sources]):
            outputs = self._execute([sources[i] for i in chunk], [prefixes[i] for i in chunk],
                                    options, requests=1)  # fmt: skip
            for index, output in zip(chunk, outputs, strict=True):
                results[index] = output
        return results

    def _chunks(self, order: list[int], lengths: list[int]) -> list[list[int]]:
        chunks: list[list[int]] = []
        current: list[int] = []
        for index in order:
            longest = max([lengths[i] for i in current] + [lengths[index]])
            if current and (
                len(current) >= self._config.max_batch_size
                or longest * (len(current) + 1) > self._config.max_batch_tokens
            ):
                chunks.append(current)
                current = []
            current.append(index)
        if current:
            chunks.append(current)
        return chunks

    def _execute(
        self,
        sources: Sequence[Sequence[str]],
        prefixes: Sequence[Sequence[str]],
        options: DecodingOptions,
        requests: int,
    ) -> list[Any]:
        started = time.monotonic()
        outputs = self._run(sources, prefixes, options)
        seconds = time.monotonic() - started
        tokens_in = sum(len(s) for s in sources)
        tokens_out = sum(len(o.hypotheses[0]) if o.hypotheses else 0 for o in outputs)
        self._stats.record_batch(len(sources), requests, tokens_in, tokens_out)
        self._observer.on_batch(self._model, len(sources), tokens_in, tokens_out, seconds)
        return outputs

    def _take_batch(self) -> list[_Work] | None:
        """Blocks until a batch is ready; None when closing with an empty queue."""
        with self._cond:
            while not self._queue:
                if self._closing:
                    return None
                self._cond.wait()
            first = self._queue[0]
            ready_at = first.enqueued + self._wait_seconds()
            while not self._closing and not self._budget_full(first.options):
                remaining = ready_at - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            batch = self._select(self._queue[0].options) if self._queue else []
            depth = len(self._queue)
        self._observer.on_queue_depth(self._model, depth)
        return batch

    def _wait_seconds(self) -> float:
        """How long the oldest segment waits for company (called with the lock held).

        Waiting only pays when other requests arrive meanwhile. A lone caller (the
        last batch served one request and one request is queued) runs at once, so
        batching costs a single client nothing; as soon as two requests meet in the
        queue or in a batch, segments wait up to `max_wait_ms` again.
        """
        if self._last_batch_requests > 1 or len({w.request for w in self._queue}) > 1:
            return self._config.max_wait_ms / 1000
        return 0.0

    def _budget_full(self, options: DecodingOptions) -> bool:
        count, longest = 0, 0
        for work in self._queue:
            if work.options != options:
                continue
            count += 1
            longest = max(longest, len(work.source))
            if (
                count >= self._config.max_batch_size
                or longest * count >= self._config.max_batch_tokens
            ):
                return True
        return False

    def _select(self, options: DecodingOptions) -> list[_Work]:
        """Removes and returns the oldest compatible segments within the budget."""
        batch: list[_Work] = []
        kept: deque[_Work] = deque()
        longest = 0
        while self._queue:
            work = self._queue.popleft()
            if work.future.cancelled():
                continue
            candidate = max(longest, len(work.source))
            fits = not batch or (
                len(batch) < self._config.max_batch_size
                and candidate * (len(batch) + 1) <= self._config.max_batch_tokens
            )
            if work.options == options and fits:
                batch.append(work)
                longest = candidate
            else:
                kept.append(work)
        self._queue.extendleft(reversed(kept))
        return batch

    def _loop(self) -> None:
        while True:
            batch = self._take_batch()
            if batch is None:
                return
            live = [w for w in batch if self._claim(w)]
            if not live:
                continue
            live.sort(key=lambda w: len(w.source))
            self._last_batch_requests = len({w.request for w in live})
            now = time.monotonic()
            for work in live:
                self._observer.on_queue_wait(self._model, now - work.enqueued)
            try:
                outputs = self._execute(
                    [w.source for w in live], [w.prefix for w in live], live[0].options,
                    requests=len({w.request for w in live}),
                )  # fmt: skip
            except Exception as error:  # a CT2 failure fails this batch, not the worker
                logger.exception("batch of %d segments failed on model %s", len(live), self._model)
                for work in live:
                    work.future.set_exception(error)
                continue
            for work, output in zip(live, outputs, strict=True):
                work.future.set_result(output)

    def _claim(self, work: _Work) -> bool:
        """Marks a segment as running; False when its caller is gone or out of time."""
        if not work.future.set_running_or_notify_cancel():
            return False
        try:
            check_context(work.ctx)
        except (Cancelled, DeadlineExceeded) as error:
            work.future.set_exception(error)
            return False
        return True

    def close(self, timeout: float) -> None:
        """Refuses new work, lets queued work finish, and stops the workers."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        end = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(end - time.monotonic(), 0.0))
        with self._cond:
            for work in self._queue:
                if work.future.set_running_or_notify_cancel():
                    work.future.set_exception(ShuttingDown("the server shut down"))
            self._queue.clear()
