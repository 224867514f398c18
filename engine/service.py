"""The engine's facade: the only engine API server/ uses.

`TranslationEngine` loads models and starts one batcher per model, resolves a request's
model (one place: `_resolve`) and hands the request to the `Pipeline`, the one data
path of every text (see `dragoman.engine.pipeline`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from dragoman.engine.batcher import Batcher
from dragoman.engine.breaker import CircuitBreaker
from dragoman.engine.cache import SegmentCache, TranslationCache, model_identity
from dragoman.engine.config import BatchingConfig, ModelSpec
from dragoman.engine.detection import detect_candidates
from dragoman.engine.errors import InputTooLong, ModelNotFound, ShuttingDown
from dragoman.engine.glossary_store import GlossaryStore
from dragoman.engine.langid import LanguageCandidate
from dragoman.engine.model import TranslationModel
from dragoman.engine.observer import EngineObserver, EngineStats, NullObserver, StatsCounter
from dragoman.engine.pipeline import Pipeline, Served
from dragoman.engine.plan import TextPreparer
from dragoman.engine.types import (
    CallContext,
    LanguageInfo,
    ModelInfo,
    StreamConfig,
    StreamUpdate,
    Translation,
    TranslationRequest,
)

__all__ = ["BatchingConfig", "EngineObserver", "EngineStats", "ModelSpec", "TranslationEngine"]

logger = logging.getLogger(__name__)

DEFAULT_BATCHING = BatchingConfig()


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
            breaker: Circuit breaker around the CTranslate2 calls (and nothing else).
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
        self._served: dict[str, Served] = {}
        self._closing = False
        self._in_flight = 0
        #: Stored glossaries that requests may name (set by the server's wiring).
        self.glossaries: GlossaryStore | None = None
        self._idle = threading.Condition()
        self.cache = cache
        self.breaker = breaker
        self._pipeline = Pipeline(
            self._stats,
            SegmentCache(cache) if cache is not None else None,
            lambda: self.glossaries,
        )

    # --- lifecycle -----------------------------------------------------------------

    def load(self) -> None:
        """Loads every model (ModelLoadError on failure) and starts its batcher."""
        for spec in self._specs:
            if spec.name in self._served:
                continue
            started = time.monotonic()
            model = TranslationModel(spec)
            self._observer.on_model_load(spec.name, time.monotonic() - started)
            # The breaker guards the CTranslate2 call only: a caller's bad input, raised
            # while preparing or restoring text, never counts as an engine failure.
            run = (
                model.translate_batch
                if self.breaker is None
                else self.breaker.wrap(model.translate_batch)
            )
            batcher = Batcher(
                spec.name, run, self._batching, self._stats, self._observer,
                workers=model.workers,
            )  # fmt: skip
            self._served[spec.name] = Served(
                model,
                batcher,
                TextPreparer(model.tokenizer, model.max_segment_pieces),
                model_identity(model.manifest.path, model.compute_type),
            )

    def warmup(self) -> None:
        """Runs one real translation per model, so the first request is not slow."""
        for name, served in self._served.items():
            codes = served.model.languages.codes
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
        for served in self._served.values():
            served.batcher.close(max(end - time.monotonic(), 0.0))

    @property
    def stats(self) -> EngineStats:
        """Counters since start (batches run, segments, largest batch, ...)."""
        depth = sum(served.batcher.depth for served in self._served.values())
        return self._stats.snapshot(queue_depth=depth)

    @property
    def ready(self) -> bool:
        """True once every model is loaded and the engine is not shutting down."""
        return len(self._served) == len(self._specs) and not self._closing

    # --- catalogue -----------------------------------------------------------------

    def list_models(self) -> list[ModelInfo]:
        """The loaded models, sorted by name."""
        return [
            ModelInfo(
                name=name,
                family=served.model.family.name,
                device=served.model.device,
                compute_type=served.model.compute_type,
                language_codes=served.model.languages.codes,
                default=name == self._default,
            )
            for name, served in sorted(self._served.items())
        ]

    def list_languages(self, model: str = "") -> list[LanguageInfo]:
        """The languages of `model` (default model when empty), sorted by code."""
        return self._resolve(model).model.languages.languages

    def detect_language(
        self, texts: Sequence[str], model: str = "", max_candidates: int = 3
    ) -> list[list[LanguageCandidate]]:
        """Language candidates of each text, mapped to `model`'s codes, best first."""
        loaded = self._resolve(model).model
        return [detect_candidates(loaded, text, max_candidates) for text in texts]

    # --- translation ---------------------------------------------------------------

    def translate(self, request: TranslationRequest, ctx: CallContext) -> list[Translation]:
        """Translates every text of `request`; one `Translation` per text, in order.

        Raises:
            ModelNotFound, UnsupportedLanguage, InvalidOption, InputTooLong: Bad request.
            Overloaded, DeadlineExceeded, Cancelled, ShuttingDown: Could not serve it now.
        """
        with self._call():
            served = self._resolve(request.model)
            for text in request.texts:  # before any per-text scan of a possibly huge text
                self._check_length(text)
            return self._pipeline.translate(served, request, ctx)

    def stream_segment(
        self, segment_id: str, text: str, config: StreamConfig, ctx: CallContext
    ) -> Iterator[StreamUpdate]:
        """Translates one streamed segment: interim updates (is_final False), then a final.

        Interim results (`config.interim`) need greedy decoding: an unset beam size means
        1 there, and an explicit beam search is refused (InvalidOption). See
        `StreamUpdate.offset` for how interim updates build the translation so far.
        """
        with self._call():
            served = self._resolve(config.model)
            self._check_length(text)
            yield from self._pipeline.stream(served, segment_id, text, config, ctx)

    # --- helpers -------------------------------------------------------------------

    def _resolve(self, name: str) -> Served:
        """The model a request names (the default one when empty), with its batcher."""
        served = self._served.get(name or self._default)
        if served is None:
            known = ", ".join(sorted(self._served)) or "(none loaded)"
            raise ModelNotFound(f"unknown model {name!r}; loaded models are: {known}")
        return served

    def _check_length(self, text: str) -> None:
        if len(text) > self._batching.max_text_chars:
            raise InputTooLong(
                f"a text of {len(text)} characters exceeds the limit of "
                f"{self._batching.max_text_chars}; split it into several contents"
            )

    def _call(self) -> _InFlight:
        return _InFlight(self)


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
