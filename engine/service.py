"""The engine's facade: the only engine API server/ uses.

`TranslationEngine` loads models, validates requests against each model's languages
and the option bounds, segments and tokenizes texts, sends segments through the
per-model batcher, and reassembles translations with their original whitespace.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from dataclasses import replace
from typing import Any

from dragoman.engine.batcher import Batcher, check_context
from dragoman.engine.breaker import CircuitBreaker
from dragoman.engine.cache import TranslationCache, model_identity
from dragoman.engine.config import BatchingConfig, ModelSpec
from dragoman.engine.errors import InputTooLong, ModelNotFound, ShuttingDown
from dragoman.engine.feature_path import (
    detect_candidates,
    detect_source,
    detection_text,
    runtime_for,
    translate_featured,
)
from dragoman.engine.features import DEFAULT_FEATURES, TextFeatures
from dragoman.engine.glossary_store import GlossaryStore
from dragoman.engine.langid import LanguageCandidate
from dragoman.engine.model import PreparedText, TranslationModel
from dragoman.engine.observer import EngineObserver, EngineStats, NullObserver, StatsCounter
from dragoman.engine.options import normalize_options
from dragoman.engine.results import assemble_translation
from dragoman.engine.segment_cache import SegmentCache, translate_segments
from dragoman.engine.types import (
    CallContext,
    DecodingOptions,
    LanguageInfo,
    ModelInfo,
    StreamUpdate,
    Translation,
    TranslationRequest,
)

__all__ = ["BatchingConfig", "EngineObserver", "EngineStats", "ModelSpec", "TranslationEngine"]

logger = logging.getLogger(__name__)

DEFAULT_BATCHING = BatchingConfig()
DEFAULT_OPTIONS = DecodingOptions()


class TranslationEngine:
    """Several CTranslate2 models behind one API, with cross-request batching.

    Thread-safe: server threads call `translate` and `stream_segment` concurrently.
    """

    def __init__(
        self,
        models: Sequence[ModelSpec],
        default_model: str = "",
        batching: BatchingConfig = DEFAULT_BATCHING,
        observer: EngineObserver | None = None,
        cache: TranslationCache | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        """Describes the engine; nothing loads until `load()`.

        Args:
            models: The models to load; names must be unique.
            default_model: The model used when a request names none (default: the first).
            batching: Batcher settings, shared by every model.
            observer: Receives batch and queue events (metrics).
            cache: Per-segment translation cache (looked up before batching).
            breaker: Circuit breaker around the model calls.
        """
        if not models:
            raise ValueError("at least one model is required")
        names = [m.name for m in models]
        if len(set(names)) != len(names):
            raise ValueError(f"model names must be unique, got {names}")
        if default_model and default_model not in names:
            raise ValueError(f"default model {default_model!r} is not one of {names}")
        self._specs = tuple(models)
        self._default = default_model or names[0]
        self._batching = batching
        self._observer: EngineObserver = observer or NullObserver()
        self._stats = StatsCounter()
        self._models: dict[str, TranslationModel] = {}
        self._batchers: dict[str, Batcher] = {}
        self._closing = False
        self._in_flight = 0
        #: Stored glossaries that requests may name (set by the server's wiring).
        self.glossaries: GlossaryStore | None = None
        self._idle = threading.Condition()
        self.cache = cache
        self.breaker = breaker
        self._segment_cache = SegmentCache(cache) if cache is not None else None

    # --- lifecycle -----------------------------------------------------------------

    def load(self) -> None:
        """Loads every model (ModelLoadError on failure) and starts its batcher."""
        for spec in self._specs:
            if spec.name in self._models:
                continue
            started = time.monotonic()
            model = TranslationModel(spec)
            self._observer.on_model_load(spec.name, time.monotonic() - started)
            if self._segment_cache is not None:
                identity = model_identity(model.manifest.path, model.compute_type)
                self._segment_cache.register(spec.name, identity)
            run = (
                model.translate_batch
                if self.breaker is None
                else self.breaker.wrap(model.translate_batch)
            )
            self._models[spec.name] = model
            self._batchers[spec.name] = Batcher(
                spec.name, run, self._batching, self._stats, self._observer,
                workers=model.workers,
            )  # fmt: skip

    def warmup(self) -> None:
        """Runs one real translation per model, so the first request is not slow."""
        for name, model in self._models.items():
            codes = model.languages.codes
            target = codes[1] if len(codes) > 1 else codes[0]
            request = TranslationRequest(("Hello.",), target, codes[0], name)
            started = time.monotonic()
            self.translate(request, CallContext())
            logger.info("warmed up model %s in %.2fs", name, time.monotonic() - started)

    def shutdown(self, timeout: float) -> None:
        """Refuses new work (ShuttingDown), waits for in-flight calls, stops batchers."""
        end = time.monotonic() + timeout
        with self._idle:
            self._closing = True
            while self._in_flight and time.monotonic() < end:
                self._idle.wait(max(end - time.monotonic(), 0.0))
        for batcher in self._batchers.values():
            batcher.close(max(end - time.monotonic(), 0.0))

    @property
    def stats(self) -> EngineStats:
        """Counters since start (batches run, segments, largest batch, ...)."""
        depth = sum(b.depth for b in self._batchers.values())
        return self._stats.snapshot(queue_depth=depth)

    @property
    def ready(self) -> bool:
        """True once every model is loaded and the engine is not shutting down."""
        return len(self._models) == len(self._specs) and not self._closing

    # --- catalogue -----------------------------------------------------------------

    def list_models(self) -> list[ModelInfo]:
        """The loaded models, sorted by name."""
        return [
            ModelInfo(
                name=name,
                family=model.family.name,
                device=model.device,
                compute_type=model.compute_type,
                language_codes=model.languages.codes,
                default=name == self._default,
            )
            for name, model in sorted(self._models.items())
        ]

    def list_languages(self, model: str = "") -> list[LanguageInfo]:
        """The languages of `model` (default model when empty), sorted by code."""
        return self._model(model).languages.languages

    def detect_language(
        self, texts: Sequence[str], model: str = "", max_candidates: int = 3
    ) -> list[list[LanguageCandidate]]:
        """Language candidates of each text, mapped to `model`'s codes, best first."""
        loaded = self._model(model)
        return [detect_candidates(loaded, text, max_candidates) for text in texts]

    # --- translation ---------------------------------------------------------------

    def translate(self, request: TranslationRequest, ctx: CallContext) -> list[Translation]:
        """Translates every text of `request`; one `Translation` per text, in order.

        Raises:
            ModelNotFound, UnsupportedLanguage, InvalidOption, InputTooLong: Bad request.
            Overloaded, DeadlineExceeded, Cancelled, ShuttingDown: Could not serve it now.
        """
        with self._call():
            model = self._model(request.model)
            options = normalize_options(request.options)
            target = model.languages.resolve(request.target_language, role="target")
            for text in request.texts:  # before any per-text scan of a possibly huge text
                self._check_length(text)
            runtime = runtime_for(model)
            featured = {
                index
                for index, text in enumerate(request.texts)
                if runtime.processor.needs_features(text, request.features)
            }
            plain = [t for i, t in enumerate(request.texts) if i not in featured]
            done = iter(self._translate_plain(model, plain, request, target, options, ctx))
            translations = []
            for index, text in enumerate(request.texts):
                if index not in featured:
                    translations.append(next(done))
                    continue
                self._check_length(text)
                plain_text = detection_text(text, request.features)
                source = self._source_code(model, plain_text, request.source_language)
                # This path calls CTranslate2 itself: its failures count for the breaker too.
                with self.breaker.guard() if self.breaker is not None else nullcontext():
                    featured_translation = translate_featured(
                        model,
                        runtime,
                        text,
                        source,
                        target,
                        request.features,
                        options,
                        lambda: check_context(ctx, self._stats),
                        self.glossaries,
                    )
                translations.append(featured_translation)
            return translations

    def _translate_plain(
        self,
        model: TranslationModel,
        texts: Sequence[str],
        request: TranslationRequest,
        target: str,
        options: DecodingOptions,
        ctx: CallContext,
    ) -> list[Translation]:
        if not texts:
            return []
        prepared = [self._prepare(model, text, request.source_language, target) for text in texts]
        sources = [s for _, p in prepared for s in p.sources]
        prefixes = [p.target_prefix for _, p in prepared for _ in p.sources]
        codes = [code for code, p in prepared for _ in p.sources]
        outputs, hits = translate_segments(
            self._segment_cache, model.name, codes, target, options, sources, prefixes,
            lambda s, p: self._batchers[model.name].translate(s, p, options, ctx),
        )  # fmt: skip
        translations = []
        position = 0
        for source_code, text in prepared:
            count = len(text.sources)
            translation = assemble_translation(
                model, text, outputs[position : position + count], source_code, options
            )
            if count and all(hits[position : position + count]):
                translation = replace(translation, cached=True)
            translations.append(translation)
            position += count
        return translations

    def stream_segment(
        self,
        segment_id: str,
        text: str,
        *,
        target_language: str,
        source_language: str = "",
        model: str = "",
        options: DecodingOptions = DEFAULT_OPTIONS,
        interim: bool = False,
        ctx: CallContext,
        features: TextFeatures = DEFAULT_FEATURES,
    ) -> Iterator[StreamUpdate]:
        """Translates one streamed segment: interim updates (is_final False), then a final.

        Interim updates need greedy decoding (beam size 1 and no alternatives); with
        any other options only the final update comes.
        """
        options = normalize_options(options)
        greedy = interim and options.beam_size == 1 and options.num_alternatives == 0
        if not greedy or runtime_for(self._model(model)).processor.needs_features(text, features):
            request = TranslationRequest(
                (text,), target_language, source_language, model, options, features
            )
            (translation,) = self.translate(request, ctx)
            yield StreamUpdate(segment_id, translation.text, True, translation.source_language,
                               translation.model)  # fmt: skip
            return
        with self._call():
            loaded = self._model(model)
            target = loaded.languages.resolve(target_language, role="target")
            source_code, prepared = self._prepare(loaded, text, source_language, target)
            done: list[str] = []
            for source in prepared.sources:
                pieces: list[str] = []
                last = ""
                for token in loaded.generate_tokens(source, prepared.target_prefix, options):
                    check_context(ctx, self._stats)
                    pieces.append(token)
                    partial = loaded.detokenize(pieces)
                    if partial != last:
                        last = partial
                        sofar = _join_partial(prepared, [*done, partial])
                        yield StreamUpdate(segment_id, sofar, False, source_code, loaded.name)
                done.append(loaded.detokenize(pieces))
                self._stats.record_batch(1, 1, len(source), len(pieces))
            final = prepared.segmented.join(done)
            yield StreamUpdate(segment_id, final, True, source_code, loaded.name)

    # --- helpers -------------------------------------------------------------------

    def _model(self, name: str) -> TranslationModel:
        model = self._models.get(name or self._default)
        if model is None:
            known = ", ".join(sorted(self._models)) or "(none loaded)"
            raise ModelNotFound(f"unknown model {name!r}; loaded models are: {known}")
        return model

    def _prepare(
        self, model: TranslationModel, text: str, source_language: str, target: str
    ) -> tuple[str, PreparedText]:
        self._check_length(text)
        source = self._source_code(model, text, source_language)
        return source, model.prepare(text, source, target)

    def _check_length(self, text: str) -> None:
        if len(text) > self._batching.max_text_chars:
            raise InputTooLong(
                f"a text of {len(text)} characters exceeds the limit of "
                f"{self._batching.max_text_chars}; split it into several contents"
            )

    @staticmethod
    def _source_code(model: TranslationModel, text: str, source_language: str) -> str:
        if source_language.strip():
            return model.languages.resolve(source_language, role="source")
        return detect_source(model, text)

    def _call(self) -> _InFlight:
        return _InFlight(self)


def _join_partial(prepared: PreparedText, sentences: list[str]) -> str:
    """Done sentences plus the partial one, with the original separators between."""
    separators = prepared.segmented.separators
    out = [separators[0]]
    for index, sentence in enumerate(sentences):
        out.append(sentence)
        if index < len(sentences) - 1:
            out.append(separators[index + 1])
    return "".join(out)


class _InFlight:
    """Counts a call as in flight, refusing it while the engine shuts down."""

    def __init__(self, engine: TranslationEngine) -> None:
        self._engine = engine

    def __enter__(self) -> None:
        engine = self._engine
        with engine._idle:
            if engine._closing:
                raise ShuttingDown("the server is shutting down; retry on another replica")
            if engine.breaker is not None:
                engine.breaker.check()  # fail fast while open, before queueing
            engine._in_flight += 1
        engine._stats.add(requests=1)

    def __exit__(self, *exc_info: Any) -> None:
        engine = self._engine
        with engine._idle:
            engine._in_flight -= 1
            engine._idle.notify_all()
