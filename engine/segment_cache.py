"""The cache step of the engine pipeline: look segments up, translate only the misses.

It sits after segmentation and tokenization and before the batcher. A segment's key
is its source tokens and target prefix under the request's scope (model identity,
source and target codes, decoding options); a segment's output does not depend on
its batch neighbours, so a hit equals what the model would produce now.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from dragoman.engine.cache import CachedSegment, CacheScope, TranslationCache, segment_key
from dragoman.engine.types import DecodingOptions

logger = logging.getLogger(__name__)

#: run(sources, prefixes) -> one result (with .hypotheses and .scores) per source.
RunFn = Callable[[Sequence[Sequence[str]], Sequence[Sequence[str]]], Sequence[Any]]

_TOKEN_SEP = "\x1f"
_PART_SEP = "\x1e"


class SegmentCache:
    """Serves segments from a `TranslationCache` and stores what the model translates."""

    def __init__(self, cache: TranslationCache) -> None:
        """Wraps `cache`; models must be registered before their requests arrive."""
        self.cache = cache
        self._identities: dict[str, str] = {}

    def register(self, model: str, identity: str) -> None:
        """Records the identity (see `model_identity`) of a loaded model."""
        self._identities[model] = identity

    def translate(
        self,
        model: str,
        source_codes: Sequence[str],
        target: str,
        options: DecodingOptions,
        sources: Sequence[Sequence[str]],
        prefixes: Sequence[Sequence[str]],
        run: RunFn,
    ) -> tuple[list[Any], list[bool]]:
        """Returns one result per source and whether it came from the cache.

        Segments repeated within the request are translated once. Cache failures never
        fail the request: the back-end turns them into misses and skipped stores.

        Args:
            model: Name of the model (registered).
            source_codes: Source language code of each segment.
            target: Target language code.
            options: The request's (normalized) decoding options.
            sources: Source tokens of each segment.
            prefixes: Target prefix of each segment.
            run: Translates a list of segments with the model.
        """
        keys = self._keys(model, source_codes, target, options, sources, prefixes)
        values = self.cache.get_many(keys)
        results: list[Any] = [None] * len(keys)
        hits = [False] * len(keys)
        misses: dict[str, list[int]] = {}
        for index, (key, value) in enumerate(zip(keys, values, strict=True)):
            cached = CachedSegment.decode(value) if value is not None else None
            if cached is None:
                misses.setdefault(key, []).append(index)
            else:
                results[index], hits[index] = cached, True
        if misses:
            firsts = [positions[0] for positions in misses.values()]
            outputs = run([sources[i] for i in firsts], [prefixes[i] for i in firsts])
            stored: dict[str, str] = {}
            for (key, positions), output in zip(misses.items(), outputs, strict=True):
                for index in positions:
                    results[index] = output
                stored[key] = CachedSegment(
                    [list(h) for h in output.hypotheses], [float(s) for s in output.scores]
                ).encode()
            self.cache.set_many(stored)
        return results, hits

    def _keys(
        self,
        model: str,
        source_codes: Sequence[str],
        target: str,
        options: DecodingOptions,
        sources: Sequence[Sequence[str]],
        prefixes: Sequence[Sequence[str]],
    ) -> list[str]:
        identity = self._identities.get(model, model)
        digests: dict[str, str] = {}
        keys = []
        for code, source, prefix in zip(source_codes, sources, prefixes, strict=True):
            digest = digests.get(code)
            if digest is None:
                digest = digests[code] = CacheScope(identity, code, target, options).digest()
            text = _TOKEN_SEP.join(source) + _PART_SEP + _TOKEN_SEP.join(prefix)
            keys.append(segment_key(digest, text))
        return keys


def translate_segments(
    segment_cache: SegmentCache | None,
    model: str,
    source_codes: Sequence[str],
    target: str,
    options: DecodingOptions,
    sources: Sequence[Sequence[str]],
    prefixes: Sequence[Sequence[str]],
    run: RunFn,
) -> tuple[list[Any], list[bool]]:
    """`SegmentCache.translate`, or a plain `run` (nothing cached) without a cache."""
    if segment_cache is None:
        return list(run(sources, prefixes)), [False] * len(sources)
    return segment_cache.translate(model, source_codes, target, options, sources, prefixes, run)
