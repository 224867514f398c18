"""The per-segment cache: keys, entries, the in-process back-end, back-end choice."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from dragoman.engine.cache import (
    KEY_PREFIX,
    CacheConfig,
    CachedSegment,
    CacheObserver,
    CacheScope,
    MemoryCache,
    TranslationCache,
    build_cache,
    model_identity,
)
from dragoman.engine.types import DecodingOptions


class Recorder(CacheObserver):
    """Keeps the cache's events."""

    def __init__(self) -> None:
        self.hits = self.misses = 0

    def on_lookup(self, backend: str, hits: int, misses: int) -> None:
        self.hits += hits
        self.misses += misses


SCOPE = CacheScope("model-a", "eng_Latn", "fra_Latn")

# Each variant changes one thing the translation depends on: its key must change.
KEY_VARIANTS = [
    CacheScope("model-b", "eng_Latn", "fra_Latn"),
    CacheScope("model-a", "deu_Latn", "fra_Latn"),
    CacheScope("model-a", "eng_Latn", "deu_Latn"),
    CacheScope("model-a", "eng_Latn", "fra_Latn", DecodingOptions(beam_size=4)),
    CacheScope("model-a", "eng_Latn", "fra_Latn", DecodingOptions(return_scores=True)),
    CacheScope("model-a", "eng_Latn", "fra_Latn", glossary=(("cat", "chat"),)),
]


@pytest.mark.parametrize(
    "variant", KEY_VARIANTS, ids=["model", "source", "target", "beam", "scores", "glossary"]
)
def test_key_changes_with_everything_that_decides_the_translation(variant: CacheScope) -> None:
    assert variant.keys(["Hello."]) != SCOPE.keys(["Hello."])


def test_key_is_stable_and_per_segment() -> None:
    keys = SCOPE.keys(["Hello.", "World.", "Hello."])
    assert keys[0] == keys[2] != keys[1]
    assert keys == CacheScope("model-a", "eng_Latn", "fra_Latn").keys(
        ["Hello.", "World.", "Hello."]
    )
    assert all(k.startswith(KEY_PREFIX) and len(k) == len(KEY_PREFIX) + 64 for k in keys)


def test_model_identity_follows_adapters_and_compute_type(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.bin").write_bytes(b"x" * 10)
    manifest = {"name": "m", "adapters": [{"name": "legal", "sha256": "aa"}]}
    (tmp_path / "dragoman.json").write_text(json.dumps(manifest))
    first = model_identity(tmp_path, "int8")
    assert model_identity(tmp_path, "int8") == first
    assert model_identity(tmp_path, "float16") != first
    manifest["adapters"] = [{"name": "legal", "sha256": "bb"}]
    (tmp_path / "dragoman.json").write_text(json.dumps(manifest))
    assert model_identity(tmp_path, "int8") != first


@pytest.mark.parametrize(
    "entry",
    [
        CachedSegment([["fra_Latn", "▁Bon", "jour"]]),
        CachedSegment([["a", "b"], ["c"]], [-0.5, -1.25]),
        CachedSegment([["ünï", "\u2010", "中文", '"quote"']]),
    ],
    ids=["plain", "alternatives+scores", "unicode"],
)
def test_entry_round_trip(entry: CachedSegment) -> None:
    assert CachedSegment.decode(entry.encode()) == entry


@pytest.mark.parametrize("value", ["", "{", "[]", '{"h": 3}', '{"h": []}', '{"x": 1}'])
def test_malformed_entry_is_a_miss(value: str) -> None:
    assert CachedSegment.decode(value) is None


def test_memory_cache_hit_miss_and_stats() -> None:
    observer = Recorder()
    cache = MemoryCache(CacheConfig(max_entries=10), observer)
    assert isinstance(cache, TranslationCache)
    assert cache.get_many(["a", "b"]) == [None, None]
    cache.set_many({"a": "A"})
    assert cache.get_many(["b", "a", "a"]) == [None, "A", "A"]
    stats = cache.stats()
    assert (stats.backend, stats.hits, stats.misses, stats.entries) == ("memory", 2, 3, 1)
    assert (observer.hits, observer.misses) == (2, 3)
    assert cache.clear() == 1
    assert cache.get_many(["a"]) == [None]


def test_memory_cache_is_bounded_lru() -> None:
    cache = MemoryCache(CacheConfig(max_entries=3, ttl_seconds=0))
    cache.set_many({"a": "1", "b": "2", "c": "3"})
    cache.get_many(["a"])  # a is now the most recently used
    cache.set_many({"d": "4"})
    assert cache.get_many(["a", "b", "c", "d"]) == ["1", None, "3", "4"]
    assert cache.stats().entries == 3


def test_memory_cache_ttl_expiry() -> None:
    cache = MemoryCache(CacheConfig(ttl_seconds=0.2))
    cache.set_many({"a": "1"})
    assert cache.get_many(["a"]) == ["1"]
    for _ in range(100):
        if cache.get_many(["a"]) == [None]:
            break
        time.sleep(0.05)
    assert cache.get_many(["a"]) == [None]
    assert cache.stats().entries == 0


def test_memory_cache_skips_oversized_values() -> None:
    cache = MemoryCache(CacheConfig(max_value_bytes=8))
    cache.set_many({"small": "1234", "big": "é" * 5})  # 10 bytes in UTF-8
    assert cache.get_many(["small", "big"]) == ["1234", None]


def test_build_cache_chooses_by_url() -> None:
    assert build_cache(CacheConfig(enabled=False)) is None
    memory = build_cache(CacheConfig())
    assert memory is not None and memory.backend == "memory"
    redis_cache = build_cache(CacheConfig(url="redis://127.0.0.1:1/0"))
    assert redis_cache is not None and redis_cache.backend == "redis"
    with pytest.raises(ValueError, match="redis, rediss, unix"):
        build_cache(CacheConfig(url="memcached://127.0.0.1:11211"))
