"""The cache inside the engine pipeline, with a real model and a real redis-server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dragoman.engine.cache import CacheConfig, MemoryCache, TranslationCache
from dragoman.engine.cache.redis_backend import RedisCache
from dragoman.engine.service import BatchingConfig, ModelSpec, TranslationEngine
from dragoman.engine.types import CallContext, DecodingOptions, TranslationRequest


def make_engine(model_dir: Path, cache: TranslationCache | None) -> TranslationEngine:
    spec = ModelSpec("nllb", str(model_dir), device="cpu", intra_threads=1)
    engine = TranslationEngine([spec], batching=BatchingConfig(max_wait_ms=1), cache=cache)
    engine.load()
    return engine


def cache_of(engine: TranslationEngine) -> TranslationCache:
    assert engine.cache is not None
    return engine.cache


@pytest.fixture(scope="module")
def memory_engine(tiny_nllb_dir: Path) -> Iterator[TranslationEngine]:
    engine = make_engine(tiny_nllb_dir, MemoryCache(CacheConfig()))
    yield engine
    engine.shutdown(timeout=5)


@pytest.fixture(scope="module")
def plain_engine(tiny_nllb_dir: Path) -> Iterator[TranslationEngine]:
    engine = make_engine(tiny_nllb_dir, None)
    yield engine
    engine.shutdown(timeout=5)


def translate(engine: TranslationEngine, *texts: str, **options: Any) -> list[Any]:
    request = TranslationRequest(texts, "fra_Latn", "eng_Latn", options=DecodingOptions(**options))
    return engine.translate(request, CallContext())


def test_second_request_is_served_from_the_cache(
    memory_engine: TranslationEngine, plain_engine: TranslationEngine
) -> None:
    cache_of(memory_engine).clear()
    first = translate(memory_engine, "The cat sees the dog.")
    batches = memory_engine.stats.batches
    again = translate(memory_engine, "The cat sees the dog.")
    assert not first[0].cached and again[0].cached
    assert (
        again[0].text == first[0].text == translate(plain_engine, "The cat sees the dog.")[0].text
    )
    assert memory_engine.stats.batches == batches  # the model did not run


def test_partial_overlap_and_reordering_hit_per_segment(memory_engine: TranslationEngine) -> None:
    cache_of(memory_engine).clear()
    first = translate(memory_engine, "My friend reads a book.", "The river is long.")
    stats = cache_of(memory_engine).stats()
    second = translate(
        memory_engine, "A red door.", "The river is long.", "My friend reads a book."
    )
    assert [t.cached for t in second] == [False, True, True]
    assert second[1].text == first[1].text and second[2].text == first[0].text
    after = cache_of(memory_engine).stats()
    assert after.hits - stats.hits == 2


def test_sentences_of_one_text_hit_separately(memory_engine: TranslationEngine) -> None:
    cache_of(memory_engine).clear()
    translate(memory_engine, "The dog eats.")
    mixed = translate(memory_engine, "The dog eats.\nThe tree is green.")
    assert not mixed[0].cached  # one sentence was new
    assert translate(memory_engine, "The dog eats.\nThe tree is green.")[0].cached


def test_scores_and_alternatives_come_back_identical(
    memory_engine: TranslationEngine, plain_engine: TranslationEngine
) -> None:
    options = {"beam_size": 4, "num_alternatives": 3, "return_scores": True}
    fresh = translate(plain_engine, "The small house.", **options)[0]
    translate(memory_engine, "The small house.", **options)
    cached = translate(memory_engine, "The small house.", **options)[0]
    assert cached.cached
    assert (cached.text, cached.score, cached.alternatives) == (
        fresh.text,
        pytest.approx(fresh.score),
        fresh.alternatives,
    )
    # Other options are another key: no hit for greedy decoding of the same text.
    assert not translate(memory_engine, "The small house.", beam_size=1)[0].cached


def test_redis_outage_mid_run_and_recovery(tiny_nllb_dir: Path, redis_server: Any) -> None:
    cache = RedisCache(CacheConfig(url=redis_server.url, backoff_seconds=0.2,
                                   max_backoff_seconds=0.2))  # fmt: skip
    engine = make_engine(tiny_nllb_dir, cache)
    try:
        texts = ["The cat walks.", "The dog sings."]
        baseline = [t.text for t in translate(engine, *texts)]
        assert all(t.cached for t in translate(engine, *texts))

        redis_server.stop()
        during = translate(engine, *texts)  # still translated, by the model
        assert [t.text for t in during] == baseline and not any(t.cached for t in during)
        assert translate(engine, "A green tree.")[0].text
        down = cache.stats()
        assert not down.available and down.errors >= 1

        redis_server.start()  # a new, empty Redis
        for _ in range(1200):  # the first call after the bypass window reconnects
            if all(t.cached for t in translate(engine, *texts)):
                break
            time.sleep(0.05)
        resumed = translate(engine, *texts)
        assert all(t.cached for t in resumed) and [t.text for t in resumed] == baseline
        assert cache.stats().available
    finally:
        engine.shutdown(timeout=5)


def test_an_entry_without_scores_does_not_answer_a_request_for_them(
    memory_engine: TranslationEngine,
) -> None:
    cache_of(memory_engine).clear()
    assert translate(memory_engine, "The blue road.", beam_size=1)[0].score is None
    assert translate(memory_engine, "The blue road.", beam_size=1)[0].cached
    scored = translate(memory_engine, "The blue road.", beam_size=1, return_scores=True)[0]
    assert not scored.cached and scored.score is not None  # decoded again, with scores
    again = translate(memory_engine, "The blue road.", beam_size=1, return_scores=True)[0]
    assert again.cached and again.score == pytest.approx(scored.score)
    assert translate(memory_engine, "The blue road.", beam_size=1)[0].cached  # one entry
