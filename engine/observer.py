"""Engine counters and the observer hook that metrics exporters implement."""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields, replace


class EngineObserver:
    """Receives engine events; server/metrics implements it.

    Every method is a no-op here; override some.
    """

    def on_batch(
        self, model: str, size: int, tokens_in: int, tokens_out: int, seconds: float
    ) -> None:
        """A CTranslate2 batch of `size` segments finished."""

    def on_queue_wait(self, model: str, seconds: float) -> None:
        """A segment left the queue after waiting `seconds`."""

    def on_queue_depth(self, model: str, depth: int) -> None:
        """The queue of `model` now holds `depth` segments."""

    def on_model_load(self, model: str, seconds: float) -> None:
        """`model` finished loading after `seconds`."""


class NullObserver(EngineObserver):
    """An observer that ignores every event; subclass it to handle only some."""


@dataclass(frozen=True)
class BatchInfo:
    """What one CTranslate2 batch held.

    Attributes:
        size: Segments in it.
        requests: Distinct requests (or stream segments) they came from.
        attention: Whether it was decoded with attention (some segment needed alignment).
        streams: Distinct stream segments it fed interim tokens to.
        tokens_in: Source tokens.
        tokens_out: Target tokens of the best hypotheses.
    """

    size: int
    requests: int
    attention: bool = False
    streams: int = 0
    tokens_in: int = 0
    tokens_out: int = 0


@dataclass(frozen=True)
class EngineStats:
    """A snapshot of the engine's counters since start.

    Attributes:
        requests: translate() and stream_segment() calls accepted.
        segments: Segments translated (sentences or sentence pieces).
        batches: CTranslate2 batches run.
        max_batch_size: Largest batch run, in segments.
        merged_batches: Batches holding segments from more than one request.
        attention_batches: Batches decoded with attention (placeholders, terms, markup).
        merged_attention_batches: Of those, batches holding more than one request.
        streaming_batches: Batches that fed interim results to streams.
        merged_streaming_batches: Of those, batches that fed more than one stream.
        tokens_in: Source tokens translated.
        tokens_out: Target tokens generated.
        overloaded: Requests refused because the queue was full.
        deadline_exceeded: Requests that ran out of time.
        cancelled: Requests whose caller went away.
        queue_depth: Segments waiting now, all models together.
    """

    requests: int = 0
    segments: int = 0
    batches: int = 0
    max_batch_size: int = 0
    merged_batches: int = 0
    attention_batches: int = 0
    merged_attention_batches: int = 0
    streaming_batches: int = 0
    merged_streaming_batches: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    overloaded: int = 0
    deadline_exceeded: int = 0
    cancelled: int = 0
    queue_depth: int = 0


class StatsCounter:
    """Thread-safe mutable counters behind `EngineStats`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats = EngineStats()

    def add(self, **deltas: int) -> None:
        """Adds each delta to the counter of the same name."""
        with self._lock:
            current = self._stats
            self._stats = replace(
                current, **{k: getattr(current, k) + v for k, v in deltas.items()}
            )

    def record_batch(self, batch: BatchInfo) -> None:
        """Counts one finished batch."""
        merged = batch.requests > 1
        with self._lock:
            s = self._stats
            self._stats = replace(
                s,
                batches=s.batches + 1,
                segments=s.segments + batch.size,
                max_batch_size=max(s.max_batch_size, batch.size),
                merged_batches=s.merged_batches + merged,
                attention_batches=s.attention_batches + batch.attention,
                merged_attention_batches=s.merged_attention_batches + (batch.attention and merged),
                streaming_batches=s.streaming_batches + (batch.streams > 0),
                merged_streaming_batches=s.merged_streaming_batches + (batch.streams > 1),
                tokens_in=s.tokens_in + batch.tokens_in,
                tokens_out=s.tokens_out + batch.tokens_out,
            )

    def snapshot(self, queue_depth: int = 0) -> EngineStats:
        """The counters now."""
        with self._lock:
            return replace(self._stats, queue_depth=queue_depth)


STAT_NAMES: tuple[str, ...] = tuple(f.name for f in fields(EngineStats))
