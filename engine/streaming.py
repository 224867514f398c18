"""Interim results of a streamed segment, fed by the shared batches.

Every sentence of the segment goes to the batcher like any other segment, so it shares
CTranslate2 batches with other requests and streams. A plain sentence carries a token
callback: CTranslate2 calls it for each generated token (greedy decoding), from the
decoding thread, and it only puts the token on this stream's queue. The caller's
thread turns the queue into updates, in sentence order: the first unfinished
sentence's partial text as it grows (at most every `INTERIM_INTERVAL_S`), then each
sentence as it finishes. A sentence
with placeholders, terms or tags appears once it is decoded and restored (its raw
tokens are not what the client should see). Sentences already in the cache are
finished at once.

Wire semantics (`StreamUpdate.offset`): an interim update's text replaces everything
after `offset` characters of the translation so far, so each finished sentence is
sent once and each token costs only the current sentence, not the whole segment.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, cast

from dragoman.engine.batcher import Job
from dragoman.engine.markup import Item
from dragoman.engine.model import SegmentResult
from dragoman.engine.plan import Sentence, Unit
from dragoman.engine.plan_render import render_sentence
from dragoman.engine.results import assemble_translation, hypothesis
from dragoman.engine.types import CallContext, DecodingOptions, StreamUpdate
from dragoman.engine.waiting import wait_timeout, waiting

if TYPE_CHECKING:
    from dragoman.engine.model import TranslationModel
    from dragoman.engine.pipeline import Pipeline, PreparedText, Served

#: Shortest time between two interim updates of a stream (a screen shows ~40 a second).
INTERIM_INTERVAL_S = 0.025
#: A token of sentence i, None when sentence i is done; None alone: the caller cancelled.
_Event = tuple[int, str | None] | None


def interim_updates(
    pipeline: Pipeline,
    served: Served,
    segment_id: str,
    prepared: PreparedText,
    options: DecodingOptions,
    ctx: CallContext,
) -> Iterator[StreamUpdate]:
    """Interim updates of one plain-text segment, then its final update."""
    model = served.model
    todo = prepared.plan.todo
    events: queue.SimpleQueue[_Event] = queue.SimpleQueue()
    keys, found = pipeline.lookup(served, prepared.jobs, options)
    results: list[SegmentResult | None] = list(found)
    misses = [i for i, hit in enumerate(found) if hit is None]
    jobs = [_streamed(prepared.jobs[i], todo[i], i, events) for i in misses]
    futures = served.batcher.submit(jobs, options, ctx)
    for index, future in zip(misses, futures, strict=True):
        future.add_done_callback(lambda _, index=index: events.put((index, None)))
    view = _Transcript(prepared, model)
    with waiting(futures, ctx, lambda: events.put(None)):
        pending = {i: f for i, f in zip(misses, futures, strict=True)}
        sent = 0.0  # when the last interim update went out
        while pending:
            pipeline.check(ctx)
            # Tokens go out at most every INTERIM_INTERVAL_S, together (a message per
            # token per stream costs more than the decoding on a small model); a
            # sentence's partial text is always sent before the sentence is finished, so
            # every decoded sentence shows progress.
            for event in [*_drain(events, ctx), None]:
                if event is not None and (token := event[1]) is not None:
                    view.add_token(event[0], token)
                    continue
                if event is None and time.monotonic() - sent < INTERIM_INTERVAL_S:
                    continue
                update = view.update()
                if update is not None and pending:
                    text, offset = update
                    yield StreamUpdate(segment_id, text, False, prepared.source_code,
                                       model.name, offset)  # fmt: skip
                    sent = time.monotonic()
                    pipeline.check(ctx)  # the caller may have gone while it was sent
                if event is not None and event[0] in pending:
                    index = event[0]
                    results[index] = pending.pop(index).result()
                    view.finish(index, results[index])
    if keys:
        pipeline.store([(keys[i], r) for i in misses if (r := results[i]) is not None])
    translation = assemble_translation(
        model, prepared.plan, cast(list[SegmentResult], results), prepared.source_code,
        options, bool(results) and not misses,
    )  # fmt: skip
    yield StreamUpdate(segment_id, translation.text, True, prepared.source_code, model.name)


def _streamed(job: Job, sentence: Sentence, index: int, events: queue.SimpleQueue[_Event]) -> Job:
    """The job with a token callback when its tokens can be shown as they come."""
    if not sentence.is_simple():
        return job
    return Job(job.input, job.attention, lambda token: events.put((index, token)))


def _drain(events: queue.SimpleQueue[_Event], ctx: CallContext) -> list[_Event]:
    """The next event (waiting for it until the caller's deadline), and every other event
    already queued; [] when the wait ended without one."""
    try:
        batch = [events.get(timeout=wait_timeout(ctx))]
    except queue.Empty:
        return []
    while True:
        try:
            batch.append(events.get_nowait())
        except queue.Empty:
            return batch


class _Transcript:
    """What the client has seen of a segment's translation, and what to send next."""

    def __init__(self, prepared: PreparedText, model: TranslationModel) -> None:
        self._model = model
        unit = next(p for p in prepared.plan.parts if isinstance(p, Unit))
        self._sentences = unit.sentences
        todo_index = {id(s): i for i, s in enumerate(prepared.plan.todo)}
        self._todo = [todo_index.get(id(s)) for s in self._sentences]
        self._tokens: dict[int, list[str]] = {}
        self._done: dict[int, SegmentResult] = {}
        self._cursor = 0  # first sentence not yet sent whole
        self._offset = 0  # characters of the sentences sent whole
        self._shown = ""  # what the client has after `_offset`

    def add_token(self, index: int, token: str) -> None:
        self._tokens.setdefault(index, []).append(token)

    def finish(self, index: int, result: SegmentResult) -> None:
        self._done[index] = result

    def update(self) -> tuple[str, int] | None:
        """(text, offset) of the next update, or None when nothing changed."""
        finished = []
        while self._cursor < len(self._sentences):
            text = self._finished_text(self._cursor)
            if text is None:
                break
            finished.append(text)
            self._cursor += 1
        partial = self._partial_text(self._cursor) if self._cursor < len(self._sentences) else ""
        new = "".join(finished) + partial
        if not finished and partial == self._shown:
            return None
        offset = self._offset
        self._offset += len(new) - len(partial)
        self._shown = partial
        return new, offset

    def _finished_text(self, position: int) -> str | None:
        sentence = self._sentences[position]
        index = self._todo[position]
        if index is None:
            return _text(render_sentence(sentence, None, self._model.tokenizer, str))
        result = self._done.get(index)
        if result is None:
            return None
        hyp = hypothesis(self._model, result, 0)
        return _text(render_sentence(sentence, hyp, self._model.tokenizer, str))

    def _partial_text(self, position: int) -> str:
        index = self._todo[position]
        tokens = self._tokens.get(index, []) if index is not None else []
        if not tokens:
            return ""
        sentence = self._sentences[position]
        pieces = self._model.output_pieces(tokens)
        return sentence.lead + sentence.text_of(pieces, self._model.tokenizer)


def _text(items: list[Item]) -> str:
    return "".join(item.lead + item.content for item in items)
