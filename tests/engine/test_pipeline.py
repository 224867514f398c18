"""One data path: featured texts and interim streams share batches and the cache.

The worker is held before its first batch by an observer (the fault: a slow model),
so what the next batch holds is decided by the test, not by timing; the engine's
counters then tell what CTranslate2 was asked.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dragoman.engine.cache import CacheConfig, MemoryCache
from dragoman.engine.features import TextFeatures
from dragoman.engine.observer import NullObserver
from dragoman.engine.service import BatchingConfig, ModelSpec, TranslationEngine
from dragoman.engine.terminology import GlossaryEntry
from dragoman.engine.types import (
    CallContext,
    DecodingOptions,
    StreamConfig,
    StreamUpdate,
    TranslationRequest,
)

GREEDY = DecodingOptions(beam_size=1, max_output_tokens=16)


class HoldFirstBatch(NullObserver):
    """Holds the worker before its first batch until released."""

    def __init__(self) -> None:
        self.holding = threading.Event()
        self.release = threading.Event()
        self._first = True

    def on_queue_wait(self, model: str, seconds: float) -> None:
        if self._first:
            self._first = False
            self.holding.set()
            assert self.release.wait(60), "the test never released the worker"


@pytest.fixture
def held(tiny_nllb_dir: Path) -> Iterator[tuple[TranslationEngine, HoldFirstBatch]]:
    observer = HoldFirstBatch()
    engine = TranslationEngine(
        [ModelSpec("nllb", str(tiny_nllb_dir), device="cpu", intra_threads=1)],
        batching=BatchingConfig(max_wait_ms=0),
        observer=observer,
    )
    engine.load()
    yield engine, observer
    observer.release.set()
    engine.shutdown(timeout=10)


def run_while_held(
    engine: TranslationEngine,
    observer: HoldFirstBatch,
    calls: list[Callable[[], Any]],
    wait_until: Callable[[Callable[[], bool]], None],
) -> list[Any]:
    """Holds the worker on a first request, queues `calls` behind it, then releases."""
    results: dict[int, Any] = {}

    def run(index: int, call: Callable[[], Any]) -> None:
        results[index] = call()

    first = threading.Thread(
        target=engine.translate, args=(TranslationRequest(("Hello.",), "fr", "en"), CallContext())
    )
    first.start()
    wait_until(observer.holding.is_set)
    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    wait_until(lambda: engine.stats.queue_depth == len(calls))
    before = engine.stats
    observer.release.set()
    for thread in (first, *threads):
        thread.join(60)
    assert engine.stats.batches - before.batches == 2  # the held one, then all of them
    return [results[i] for i in range(len(calls))]


def test_featured_segments_of_different_requests_share_one_batch(
    held: tuple[TranslationEngine, HoldFirstBatch],
    wait_until: Callable[[Callable[[], bool]], None],
) -> None:
    engine, observer = held
    features = [
        TextFeatures(),  # placeholders are protected by default
        TextFeatures(glossary_entries=(GlossaryEntry("dog", "CHIEN-Z"),)),
        TextFeatures(do_not_translate=("Dragoman",)),
    ]
    texts = ["Hello {name}, the cat sees you.", "The dog sees the tree.", "Dragoman reads."]

    def call(text: str, feature: TextFeatures) -> Callable[[], Any]:
        request = TranslationRequest((text,), "fr", "en", "", GREEDY, feature)
        return lambda: engine.translate(request, CallContext())[0]

    calls = [call(t, f) for t, f in zip(texts, features, strict=True)]
    before = engine.stats
    placeholder, glossary, kept = run_while_held(engine, observer, calls, wait_until)
    after = engine.stats
    assert after.merged_attention_batches - before.merged_attention_batches == 1
    assert after.max_batch_size >= 3
    assert "{name}" in placeholder.text and "CHIEN-Z" in glossary.text
    assert "Dragoman" in kept.text
    assert [e.source for e in glossary.glossary_applied] == ["dog"]


def transcripts(updates: list[StreamUpdate]) -> list[str]:
    """What a client shows after each interim update (see StreamUpdate.offset)."""
    shown, out = "", []
    for update in updates:
        shown = shown[: update.offset] + update.text
        out.append(shown)
    return out


def test_interim_streams_share_one_batch(
    held: tuple[TranslationEngine, HoldFirstBatch],
    wait_until: Callable[[Callable[[], bool]], None],
) -> None:
    engine, observer = held
    config = StreamConfig("fr", "en", options=DecodingOptions(max_output_tokens=16), interim=True)
    texts = ["The cat walks near the river.", "My friend reads a book."]
    calls = [
        (lambda i=i, t=t: list(engine.stream_segment(str(i), t, config, CallContext())))
        for i, t in enumerate(texts)
    ]
    before = engine.stats
    streams = run_while_held(engine, observer, calls, wait_until)
    after = engine.stats
    assert after.merged_streaming_batches - before.merged_streaming_batches == 1
    for text, updates in zip(texts, streams, strict=True):
        *interim, final = updates
        assert interim and final.is_final
        request = TranslationRequest((text,), "fr", "en", options=GREEDY)
        assert final.text == engine.translate(request, CallContext())[0].text
        assert final.text.startswith(transcripts(interim)[-1].rstrip())


@pytest.fixture(scope="module")
def cached_engine(tiny_nllb_dir: Path) -> Iterator[TranslationEngine]:
    engine = TranslationEngine(
        [ModelSpec("nllb", str(tiny_nllb_dir), device="cpu", intra_threads=1)],
        cache=MemoryCache(CacheConfig()),
    )
    engine.load()
    yield engine
    engine.shutdown(timeout=10)


FEATURED = {
    "placeholder": ("Hello {name}, you have %d messages.", TextFeatures()),
    "glossary": (
        "The cat sees the river.",
        TextFeatures(glossary_entries=(GlossaryEntry("cat", "CHAT-X"),)),
    ),
    "do-not-translate": ("Dragoman Cloud sees the cat.", TextFeatures(do_not_translate=("cat",))),
    "markup": ('<p>The <b class="x">big cat</b> sees.</p>', TextFeatures(mime_type="text/html")),
}


@pytest.mark.parametrize(("text", "features"), FEATURED.values(), ids=FEATURED.keys())
def test_featured_texts_are_served_from_the_cache_on_repeat(
    cached_engine: TranslationEngine, text: str, features: TextFeatures
) -> None:
    request = TranslationRequest((text,), "fr", "en", "", GREEDY, features)
    (first,) = cached_engine.translate(request, CallContext())
    batches = cached_engine.stats.batches
    (again,) = cached_engine.translate(request, CallContext())
    assert not first.cached and again.cached
    assert cached_engine.stats.batches == batches  # the model did not run
    assert (again.text, again.glossary_applied) == (first.text, first.glossary_applied)


def test_a_hit_is_restored_with_the_requests_own_features(
    cached_engine: TranslationEngine,
) -> None:
    """The cache holds the model's output for the exact tokens it saw; restoring runs
    again per request, so another glossary target on the same text is never stale."""
    text = "The small dog walks."

    def translate(target: str) -> Any:
        features = TextFeatures(glossary_entries=(GlossaryEntry("dog", target),))
        request = TranslationRequest((text,), "fr", "en", "", GREEDY, features)
        return cached_engine.translate(request, CallContext())[0]

    first, second = translate("HUND-1"), translate("PERRO-2")
    assert second.cached and "PERRO-2" in second.text and "HUND-1" not in second.text
    assert first.text.replace("HUND-1", "PERRO-2") == second.text
    unprotected = TranslationRequest(
        ("Hello {name}.",), "fr", "en", "", GREEDY, TextFeatures(protect_placeholders=False)
    )
    protected = TranslationRequest(("Hello {name}.",), "fr", "en", "", GREEDY)
    cached_engine.translate(protected, CallContext())
    # Protection changes what the model sees (chunked pieces, alignment): another key.
    assert not cached_engine.translate(unprotected, CallContext())[0].cached
