"""The per-segment cache: keys, entries, the in-process back-end, back-end choice."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from dragoman.engine.cache import (
    KEY_PREFIX,
    CacheConfig,
    CachedSegment,
    CacheObserver,
    MemoryCache,
    SegmentCache,
    TranslationCache,
    build_cache,
    model_identity,
)
from dragoman.engine.cache.keys import Sealer
from dragoman.engine.model import ModelInput
from dragoman.engine.types import DecodingOptions


class Recorder(CacheObserver):
    """Keeps the cache's events."""

    def __init__(self) -> None:
        self.hits = self.misses = 0

    def on_lookup(self, backend: str, hits: int, misses: int) -> None:
        self.hits += hits
        self.misses += misses


def _keys(**changes: Any) -> list[str]:
    """The keys of two segments under the pipeline's scope, with one thing changed."""
    scope: dict[str, Any] = {
        "identity": "model-a",
        "options": DecodingOptions(beam_size=2),
        "inputs": [ModelInput(("eng_Latn", "▁Hello", "</s>"), ("fra_Latn",), 1, 1)] * 2,
        "attention": [False, True],
        **changes,
    }
    return SegmentCache(MemoryCache(CacheConfig())).keys(**scope)


# Each variant changes one thing the model's output depends on: its key must change.
KEY_VARIANTS = {
    "model": {"identity": "model-b"},
    "beam": {"options": DecodingOptions(beam_size=4)},
    "length": {"options": DecodingOptions(beam_size=2, max_output_tokens=5)},
    "source": {"inputs": [ModelInput(("deu_Latn", "▁Hello", "</s>"), ("fra_Latn",), 1, 1)] * 2},
    "target": {"inputs": [ModelInput(("eng_Latn", "▁Hello", "</s>"), ("deu_Latn",), 1, 1)] * 2},
    "tokens": {"inputs": [ModelInput(("eng_Latn", "▁Hell", "o", "</s>"), ("fra_Latn",), 1, 2)] * 2},
}


@pytest.mark.parametrize("change", KEY_VARIANTS.values(), ids=KEY_VARIANTS.keys())
def test_key_changes_with_everything_that_decides_the_output(change: dict[str, Any]) -> None:
    assert not set(_keys(**change)) & set(_keys())


def test_key_is_stable_per_segment_and_alignment() -> None:
    plain, aligned = _keys()
    assert plain != aligned  # decoded with attention: another entry
    assert _keys() == [plain, aligned]
    # Scores are always decoded: asking for them is the same entry.
    assert _keys(options=DecodingOptions(beam_size=2, return_scores=True)) == [plain, aligned]
    assert all(
        k.startswith(KEY_PREFIX) and len(k) == len(KEY_PREFIX) + 64 for k in (plain, aligned)
    )


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
        CachedSegment([["a", "b"], ["c"]], [-0.5, -1.0], [[0, 1], [0]]),
    ],
    ids=["plain", "alternatives+scores", "unicode", "alignments"],
)
def test_entry_round_trip(entry: CachedSegment) -> None:
    assert CachedSegment.decode(entry.encode()) == entry


@pytest.mark.parametrize(
    "value", ["", "{", "[]", '{"h": 3}', '{"h": []}', '{"x": 1}', '{"h": [["a"]], "a": [[0], [1]]}']
)
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


def test_sealed_values_open_only_under_their_key_and_secret() -> None:
    sealer = Sealer("secret")
    sealed = sealer.seal("k1", '{"h":[["a"]]}')
    assert sealer.open("k1", sealed) == '{"h":[["a"]]}'
    assert sealer.open("k2", sealed) is None  # moved to another key
    assert sealer.open("k1", sealed[:-1] + "X") is None  # value corrupted
    assert sealer.open("k1", "x" + sealed[1:]) is None  # MAC tampered
    assert sealer.open("k1", "short") is None
    assert Sealer("other").open("k1", sealed) is None
    assert Sealer().open("k1", Sealer().seal("k1", "v")) is None  # random per-process keys


def test_memory_cache_is_bounded_by_bytes() -> None:
    cache = MemoryCache(CacheConfig(max_bytes=64 * 1024, max_entries=10**6, ttl_seconds=0))
    for i in range(200):
        cache.set_many({f"k{i}": "x" * 1000})
    assert 0 < cache.bytes <= 64 * 1024
    assert cache.stats().entries < 70  # ~1 KB each: the byte bound, not the count, evicts
    assert cache.get_many(["k199", "k0"]) == ["x" * 1000, None]  # least recently used went


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
    for _ in range(1200):
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
