"""The one data path every text takes, unary or streamed, plain or with features.

    prepare (detect the source, protect/parse, segment, tokenize; deadline checked)
    -> cache lookup -> batcher -> CTranslate2 -> cache store -> restore and assemble

`Pipeline.translate` serves TranslateText; `Pipeline.stream` serves one streamed
segment (interim results come from the same shared batches through the model's token
callback, see `dragoman.engine.streaming`). No other code calls CTranslate2 to
translate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import cast

from dragoman.engine.batcher import Batcher, Job
from dragoman.engine.cache import SegmentCache
from dragoman.engine.detection import detect_source, detection_text
from dragoman.engine.features import TextFeatures
from dragoman.engine.glossary_store import GlossaryStore
from dragoman.engine.model import SegmentResult, TranslationModel
from dragoman.engine.observer import StatsCounter
from dragoman.engine.plan import TextPlan, TextPreparer
from dragoman.engine.results import assemble_translation
from dragoman.engine.types import (
    CallContext,
    DecodingOptions,
    StreamConfig,
    StreamUpdate,
    Translation,
    TranslationRequest,
)
from dragoman.engine.validation import normalize_options, stream_options
from dragoman.engine.waiting import check_context


@dataclass(frozen=True)
class Served:
    """A loaded model and what serves it: its batcher and text preparer.

    Attributes:
        model: The model.
        batcher: Its batcher (the only way to its CTranslate2 translator).
        preparer: Prepares texts for its tokenizer and input limit.
        identity: `model_identity` of its directory (cache keys).
    """

    model: TranslationModel
    batcher: Batcher
    preparer: TextPreparer
    identity: str


@dataclass(frozen=True)
class PreparedText:
    """One text ready for decoding: its source language, its plan, one job per sentence
    of `plan.todo`."""

    source_code: str
    plan: TextPlan
    jobs: list[Job]


class Pipeline:
    """Runs requests through the stages; shared by every model of an engine."""

    def __init__(
        self,
        stats: StatsCounter,
        cache: SegmentCache | None,
        glossaries: Callable[[], GlossaryStore | None],
    ) -> None:
        """Creates the pipeline.

        Args:
            stats: The engine's counters.
            cache: The segment cache, or None.
            glossaries: Returns the engine's glossary store (set after construction).
        """
        self._stats = stats
        self.cache = cache
        self._glossaries = glossaries

    def translate(
        self, served: Served, request: TranslationRequest, ctx: CallContext
    ) -> list[Translation]:
        """Translates every text of `request`; one `Translation` per text, in order."""
        options = normalize_options(request.options)
        target = served.model.languages.resolve(request.target_language, role="target")
        source = self._given_source(served.model, request.source_language)
        prepared = [
            self.prepare(served, text, source, target, request.features, ctx)
            for text in request.texts
        ]
        jobs = [job for text in prepared for job in text.jobs]
        results, hits = self.decode(served, jobs, options, ctx)
        translations = []
        position = 0
        for text in prepared:
            count = len(text.jobs)
            translations.append(
                assemble_translation(
                    served.model, text.plan, results[position : position + count],
                    text.source_code, options, count > 0 and all(hits[position : position + count]),
                )
            )  # fmt: skip
            position += count
        return translations

    def stream(
        self,
        served: Served,
        segment_id: str,
        text: str,
        config: StreamConfig,
        ctx: CallContext,
    ) -> Iterator[StreamUpdate]:
        """Translates one streamed segment: interim updates when asked for, then the final."""
        from dragoman.engine.streaming import interim_updates

        options = stream_options(config)
        target = served.model.languages.resolve(config.target_language, role="target")
        source = self._given_source(served.model, config.source_language)
        prepared = self.prepare(served, text, source, target, config.features, ctx)
        if config.interim and not prepared.plan.markup:
            yield from interim_updates(self, served, segment_id, prepared, options, ctx)
            return
        results, hits = self.decode(served, prepared.jobs, options, ctx)
        translation = assemble_translation(
            served.model, prepared.plan, results, prepared.source_code, options, all(hits)
        )
        yield StreamUpdate(
            segment_id, translation.text, True, translation.source_language, translation.model
        )

    def prepare(
        self,
        served: Served,
        text: str,
        source: str,
        target: str,
        features: TextFeatures,
        ctx: CallContext,
    ) -> PreparedText:
        """Detects the source language (when `source` is empty), protects, parses and
        segments `text`, checking the caller's deadline as it goes."""

        def check() -> None:
            self.check(ctx)

        check()
        model = served.model
        code = source or detect_source(model, detection_text(text, features))
        store = self._glossaries()
        plan = served.preparer.prepare(text, features, store.get if store else None, check)
        jobs = [Job(model.frame(s.pieces, code, target), s.needs_attention()) for s in plan.todo]
        return PreparedText(code, plan, jobs)

    def decode(
        self,
        served: Served,
        jobs: Sequence[Job],
        options: DecodingOptions,
        ctx: CallContext,
    ) -> tuple[list[SegmentResult], list[bool]]:
        """One result per job, from the cache or the batcher, and whether it was cached.

        Segments repeated within the request are decoded once.
        """
        keys, found = self.lookup(served, jobs, options)
        firsts: dict[object, list[int]] = {}
        for index, (job, hit) in enumerate(zip(jobs, found, strict=True)):
            if hit is None:
                key = keys[index] if keys else (job.input, job.attention)
                firsts.setdefault(key, []).append(index)
        todo = [positions[0] for positions in firsts.values()]
        outputs = served.batcher.translate([jobs[i] for i in todo], options, ctx)
        results: list[SegmentResult | None] = list(found)
        for positions, output in zip(firsts.values(), outputs, strict=True):
            for index in positions:
                results[index] = output
        if keys:
            self.store([(keys[i], output) for i, output in zip(todo, outputs, strict=True)])
        return cast(list[SegmentResult], results), [hit is not None for hit in found]

    def check(self, ctx: CallContext) -> None:
        """Raises (and counts) when the caller cancelled or its deadline passed."""
        check_context(ctx, self._stats)

    def lookup(
        self, served: Served, jobs: Sequence[Job], options: DecodingOptions
    ) -> tuple[list[str], list[SegmentResult | None]]:
        """The cache keys of `jobs` ([] without a cache) and their cached results."""
        if self.cache is None or not jobs:
            return [], [None] * len(jobs)
        keys = self.cache.keys(
            served.identity, options, [j.input for j in jobs], [j.attention for j in jobs]
        )
        scores = options.return_scores or options.num_alternatives > 0
        return keys, self.cache.lookup(keys, scores)

    def store(self, items: Sequence[tuple[str, SegmentResult]]) -> None:
        """Caches decoded segments (no-op without a cache)."""
        if self.cache is not None:
            self.cache.store(items)

    @staticmethod
    def _given_source(model: TranslationModel, source_language: str) -> str:
        """The model code of the request's source language; "" means detect per text."""
        if source_language.strip():
            return model.languages.resolve(source_language, role="source")
        return ""
