"""Cross-request batching: a bounded queue per model and worker threads.

Callers submit segments (`Job`s) with their `CallContext`; workers take the oldest
segment, wait up to `max_wait_ms` for company, gather queued segments that decode
with the same options up to the token budget, sort them by length and run one
CTranslate2 batch. Each job carries what it needs from that batch: word alignments
(attention) for texts with placeholders, terms or markup, and a token callback for
streams that show interim results. A batch asks CTranslate2 for attention only when
one of its segments needs it and feeds callbacks only when one has one, so plain,
featured and streamed segments of any request share batches. A full queue refuses
work (`Overloaded`) instead of growing; a caller whose deadline passes or who cancels
stops waiting, and their queued segments are skipped.

Callers wait without polling (`dragoman.engine.waiting`).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace

from dragoman.engine.config import BatchingConfig
from dragoman.engine.errors import Cancelled, DeadlineExceeded, Overloaded, ShuttingDown
from dragoman.engine.model import ModelInput, SegmentResult, TokenCallback
from dragoman.engine.observer import BatchInfo, EngineObserver, StatsCounter
from dragoman.engine.types import CallContext, DecodingOptions
from dragoman.engine.waiting import check_context, wait_for

logger = logging.getLogger(__name__)

#: run(inputs, options, attention=..., callback=...) -> one result per input: the model.
RunBatch = Callable[..., list[SegmentResult]]


@dataclass(frozen=True)
class Job:
    """One segment to decode, and what its caller needs from the batch.

    Attributes:
        input: The segment as the model sees it.
        attention: Word alignments are needed (placeholders, terms, markup).
        on_token: Receives each generated token (greedy streams with interim results).
    """

    input: ModelInput
    attention: bool = False
    on_token: Callable[[str], None] | None = None


@dataclass
class _Work:
    job: Job
    options: DecodingOptions
    request: int
    ctx: CallContext
    enqueued: float = field(default_factory=time.monotonic)
    future: Future[SegmentResult] = field(default_factory=Future)

    @property
    def length(self) -> int:
        return len(self.job.input.source)


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
        # Requests in the last batch and how long it took (see _wait_seconds).
        self._last_batch_requests = 1
        self._last_batch_seconds = 0.0
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
        self, jobs: Sequence[Job], options: DecodingOptions, ctx: CallContext
    ) -> list[SegmentResult]:
        """Translates the segments of one request; returns one result per job.

        Raises:
            Overloaded: The queue cannot take the segments.
            DeadlineExceeded, Cancelled: The caller ran out of time or went away.
            ShuttingDown: The batcher is closing.
        """
        return wait_for(self.submit(jobs, options, ctx), ctx, self._stats)

    def submit(
        self, jobs: Sequence[Job], options: DecodingOptions, ctx: CallContext
    ) -> list[Future[SegmentResult]]:
        """Queues the segments of one request; one future per job (see `translate`)."""
        check_context(ctx, self._stats)
        if not jobs:
            return []
        if not self._config.enabled:
            return self._run_direct(jobs, options)
        request = next(self._requests)
        work = [_Work(job, options, request, ctx) for job in jobs]
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
        return [w.future for w in work]

    def _run_direct(
        self, jobs: Sequence[Job], options: DecodingOptions
    ) -> list[Future[SegmentResult]]:
        """Batching off: this request's segments alone, in the caller's thread."""
        if self._closing:
            raise ShuttingDown("the server is shutting down; retry on another replica")
        work = [_Work(job, options, 0, CallContext()) for job in jobs]
        for chunk in self._chunks(sorted(work, key=lambda w: w.length)):
            self._execute(chunk, requests=1)
        return [w.future for w in work]

    def _chunks(self, work: list[_Work]) -> list[list[_Work]]:
        chunks: list[list[_Work]] = []
        current: list[_Work] = []
        for item in work:
            longest = max([w.length for w in current] + [item.length])
            if current and (
                len(current) >= self._config.max_batch_size
                or longest * (len(current) + 1) > self._config.max_batch_tokens
            ):
                chunks.append(current)
                current = []
            current.append(item)
        if current:
            chunks.append(current)
        return chunks

    def _execute(self, live: list[_Work], requests: int) -> None:
        """Runs one batch and settles every segment's future (a failure fails them all)."""
        callbacks = [w.job.on_token for w in live]
        info = BatchInfo(
            size=len(live),
            requests=requests,
            attention=any(w.job.attention for w in live),
            streams=len({w.request for w in live if w.job.on_token is not None}),
            tokens_in=sum(w.length for w in live),
        )
        started = time.monotonic()
        try:
            outputs = self._run(
                [w.job.input for w in live],
                live[0].options,
                attention=info.attention,
                scores=any(_wants_scores(w.options) for w in live),
                callback=_dispatch(callbacks) if info.streams else None,
            )
        except Exception as error:  # a CT2 failure fails this batch, not the worker
            logger.exception("batch of %d segments failed on model %s", len(live), self._model)
            for work in live:
                work.future.set_exception(error)
            return
        seconds = time.monotonic() - started
        self._last_batch_seconds = seconds
        info = replace(info, tokens_out=sum(len(o.hypotheses[0]) if o.hypotheses else 0
                                            for o in outputs))  # fmt: skip
        self._stats.record_batch(info)
        self._observer.on_batch(self._model, info.size, info.tokens_in, info.tokens_out, seconds)
        for work, output in zip(live, outputs, strict=True):
            work.future.set_result(output)

    def _take_batch(self) -> list[_Work] | None:
        """Blocks until a batch is ready; None when closing with an empty queue."""
        with self._cond:
            while not self._queue:
                if self._closing:
                    return None
                self._cond.wait()
            first = self._queue[0]
            key = _batch_key(first.options)
            base, adaptive = self._wait_seconds()
            # The oldest segment waits `base` from its arrival; after a slow batch the
            # worker also waits `adaptive` from now for the callers it just answered.
            ready_at = max(first.enqueued + base, time.monotonic() + adaptive)
            while not self._closing and not self._budget_full(key) and not self._all_back():
                remaining = ready_at - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            batch = self._select(_batch_key(self._queue[0].options)) if self._queue else []
            depth = len(self._queue)
        self._observer.on_queue_depth(self._model, depth)
        return batch

    def _wait_seconds(self) -> tuple[float, float]:
        """How long the oldest segment waits for company, and how long the worker waits
        after a slow batch (called with the lock held).

        Waiting only pays when other requests arrive meanwhile. A lone caller (the
        last batch served one request and one request is queued) runs at once, so
        batching costs a single client nothing; as soon as two requests meet in the
        queue or in a batch, segments wait up to `max_wait_ms` again. When batches are
        slow (a large model on a CPU: seconds), the callers a batch just answered need
        longer than that to send their next request than it takes to decode, so the wait
        grows to `wait_fraction` of the last batch's duration: without it, 32 clients
        settle into alternating batches of 1 and 31 (measured on an NLLB-600M shape:
        0.37 instead of 0.25 CPU-seconds per sentence). `_all_back` ends it early.
        """
        if self._last_batch_requests > 1 or len({w.request for w in self._queue}) > 1:
            adaptive = min(
                self._config.wait_fraction * self._last_batch_seconds,
                self._config.max_adaptive_wait_ms / 1000,
            )
            return self._config.max_wait_ms / 1000, adaptive
        return 0.0, 0.0

    def _all_back(self) -> bool:
        """More requests are queued than the last batch held: waiting longer is moot."""
        return len({w.request for w in self._queue}) > self._last_batch_requests

    def _budget_full(self, key: DecodingOptions) -> bool:
        count, longest = 0, 0
        for work in self._queue:
            if _batch_key(work.options) != key:
                continue
            count += 1
            longest = max(longest, work.length)
            if (
                count >= self._config.max_batch_size
                or longest * count >= self._config.max_batch_tokens
            ):
                return True
        return False

    def _select(self, key: DecodingOptions) -> list[_Work]:
        """Removes and returns the oldest compatible segments within the budget."""
        batch: list[_Work] = []
        kept: deque[_Work] = deque()
        longest = 0
        while self._queue:
            work = self._queue.popleft()
            if work.future.cancelled():
                continue
            candidate = max(longest, work.length)
            fits = not batch or (
                len(batch) < self._config.max_batch_size
                and candidate * (len(batch) + 1) <= self._config.max_batch_tokens
            )
            if fits and _batch_key(work.options) == key:
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
            live.sort(key=lambda w: w.length)
            requests = len({w.request for w in live})
            self._last_batch_requests = requests
            now = time.monotonic()
            for work in live:
                self._observer.on_queue_wait(self._model, now - work.enqueued)
            self._execute(live, requests)

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


def _batch_key(options: DecodingOptions) -> DecodingOptions:
    """Segments whose options have the same key decode together (a batch returns scores
    when one of its segments asks, so asking for them does not split batches)."""
    return replace(options, return_scores=False) if options.return_scores else options


def _wants_scores(options: DecodingOptions) -> bool:
    return options.return_scores or options.num_alternatives > 0


def _dispatch(callbacks: Sequence[Callable[[str], None] | None]) -> TokenCallback:
    """One CT2 callback for the batch, routing each token to its segment's callback."""

    def route(index: int, token: str) -> None:
        callback = callbacks[index]
        if callback is not None:
            callback(token)

    return route
