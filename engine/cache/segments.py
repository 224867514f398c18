"""The cache step of the engine pipeline: look segments up, store what the model decoded.

It sits after preparation (protect/parse, segment, tokenize) and before the batcher,
and caches what the model returns for one segment: hypotheses, scores and, for
segments decoded with attention, the word alignments. A segment's key is everything
that decides that output: the model's identity, the decoding options, whether
alignments were asked for, and the exact tokens the model sees (source language
token, pieces, target prefix). Restoring a text (placeholders, glossary terms, tags,
whitespace) runs again from the request's own features on every hit, so a glossary,
do-not-translate list, protection setting or mime type can never be served another
request's restoration: features that change what the model sees change the tokens
(and so the key), and features that change only the restoration are applied fresh.
A segment's output does not depend on its batch neighbours, so a hit equals what the
model would produce now.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, replace

from dragoman.engine.cache.base import TranslationCache
from dragoman.engine.cache.keys import CachedSegment, segment_key
from dragoman.engine.model import ModelInput, SegmentResult
from dragoman.engine.types import DecodingOptions

_TOKEN_SEP = "\x1f"
_PART_SEP = "\x1e"


class SegmentCache:
    """Serves segments from a `TranslationCache` and stores what the model decoded."""

    def __init__(self, cache: TranslationCache) -> None:
        """Wraps `cache`."""
        self.cache = cache

    def keys(
        self,
        identity: str,
        options: DecodingOptions,
        inputs: Sequence[ModelInput],
        attention: Sequence[bool],
    ) -> list[str]:
        """The key of each segment (see the module docstring)."""
        # Asking for scores does not change the hypotheses: one entry; a look-up that
        # needs scores treats an entry decoded without them as a miss.
        scope = json.dumps(
            [identity, asdict(replace(options, return_scores=False))],
            sort_keys=True,
            separators=(",", ":"),
        )
        digest = hashlib.sha256(scope.encode("utf-8")).hexdigest()
        return [
            segment_key(
                digest,
                _TOKEN_SEP.join(i.source) + _PART_SEP + _TOKEN_SEP.join(i.prefix)
                + _PART_SEP + ("a" if aligned else ""),
            )
            for i, aligned in zip(inputs, attention, strict=True)
        ]  # fmt: skip

    def lookup(self, keys: Sequence[str], scores: bool = False) -> list[SegmentResult | None]:
        """The cached result of each key, or None (a miss, an entry that fails to parse or
        to authenticate, or one without the scores that `scores` asks for)."""
        values = self.cache.get_many(keys)
        found: list[SegmentResult | None] = []
        for value in values:
            entry = CachedSegment.decode(value) if value is not None else None
            if entry is not None and scores and not entry.scores:
                entry = None
            found.append(
                None
                if entry is None
                else SegmentResult(
                    entry.hypotheses, entry.scores, [tuple(a) for a in entry.alignments]
                )
            )
        return found

    def store(self, items: Sequence[tuple[str, SegmentResult]]) -> None:
        """Stores decoded segments (never raises: back-end failures are skipped stores)."""
        if items:
            self.cache.set_many(
                {
                    key: CachedSegment(
                        [list(h) for h in result.hypotheses],
                        [float(s) for s in result.scores],
                        [list(a) for a in result.alignments],
                    ).encode()
                    for key, result in items
                }
            )
