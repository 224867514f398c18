"""Bookkeeping that lets a translation stream survive a lost server.

A stream sends segments and gets a final result per segment. When the server goes away
mid-stream (UNAVAILABLE), the client opens a new stream (round_robin picks a live server)
and sends again every segment that has no final result yet, then goes on with the
caller's input. Segments travel under a wire id (their position), so the caller's ids
need not be unique.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from dragoman.clients import convert
from dragoman.clients.types import Segment, StreamResult

from dragoman.translation.v1 import translation_service_pb2 as pb


@dataclass
class Attempt:
    """One stream attempt: what it has sent, and whether it is over."""

    sent: set[str] = field(default_factory=set)
    done: bool = False


class StreamLedger:
    """Segments pulled from the caller but not yet answered with a final result."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, Segment] = {}
        # Interim translation so far per segment (responses carry only what changed).
        self._shown: dict[str, str] = {}
        self._next = 0
        self.exhausted = False

    def add(self, item: str | Segment) -> tuple[str, Segment]:
        """Registers a segment the caller gave; returns (wire id, segment)."""
        segment = item if isinstance(item, Segment) else Segment(text=item)
        with self._lock:
            wire_id = str(self._next)
            self._next += 1
            if not segment.segment_id:
                segment = Segment(text=segment.text, segment_id=wire_id)
            self._pending[wire_id] = segment
        return wire_id, segment

    def unsent(self, attempt: Attempt) -> tuple[str, Segment] | None:
        """The oldest pending segment this attempt has not sent yet."""
        with self._lock:
            for wire_id, segment in self._pending.items():
                if wire_id not in attempt.sent:
                    return wire_id, segment
        return None

    def result(self, response: pb.StreamTranslateTextResponse) -> StreamResult | None:
        """Converts a response; a final one settles its segment. None if unknown.

        An interim response's text replaces the translation so far from its
        `text_offset` on; the result carries the whole translation so far.
        """
        wire_id = response.segment_id
        with self._lock:
            if response.is_final:
                segment = self._pending.pop(wire_id, None)
                self._shown.pop(wire_id, None)
                text = response.translated_text
            else:
                segment = self._pending.get(wire_id)
                shown = self._shown.get(wire_id, "")[: response.text_offset]
                text = self._shown[wire_id] = shown + response.translated_text
        if segment is None:
            return None
        return convert.stream_result(response, segment.segment_id, text)

    @property
    def finished(self) -> bool:
        """True when the caller's input is exhausted and every segment is answered."""
        with self._lock:
            return self.exhausted and not self._pending

    @property
    def pending(self) -> int:
        """Segments waiting for a final result."""
        with self._lock:
            return len(self._pending)


class SyncFeed:
    """Feeds one attempt's request iterator from the caller's (blocking) iterator."""

    def __init__(self, source: Iterator[str | Segment], ledger: StreamLedger) -> None:
        self._source = source
        self._source_lock = threading.Lock()
        self._ledger = ledger
        #: What the caller's iterator raised; the stream is half-closed and the
        #: exception re-raised to the caller once the sent segments are answered.
        self.error: Exception | None = None

    def _pull(self, attempt: Attempt) -> tuple[str, Segment] | None:
        # One attempt at a time reads the caller's iterator; a dead attempt that was
        # blocked in it leaves what it read in the ledger for the next attempt.
        with self._source_lock:
            pending = self._ledger.unsent(attempt)
            if pending is not None or self._ledger.exhausted:
                return pending
            try:
                item = next(self._source)
            except StopIteration:
                self._ledger.exhausted = True
                return None
            except Exception as error:
                self.error = error
                self._ledger.exhausted = True
                return None
            return self._ledger.add(item)

    def requests(
        self, config: pb.StreamTranslateTextRequest, attempt: Attempt
    ) -> Iterator[pb.StreamTranslateTextRequest]:
        """The request messages of one attempt: config, resent segments, new ones."""
        yield config
        while not attempt.done:
            item = self._ledger.unsent(attempt) or self._pull(attempt)
            if item is None or attempt.done:
                return
            wire_id, segment = item
            attempt.sent.add(wire_id)
            yield convert.stream_segment(wire_id, segment.text)
