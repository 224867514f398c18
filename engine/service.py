"""The engine's facade: the only engine API server/ uses.

`TranslationEngine` loads models and starts one batcher per model version, picks the
version that serves a request (one place: its `registry`, which routes between a name's
versions, see `dragoman.engine.registry`) and hands the request to the `Pipeline`, the
one data path of every text (see `dragoman.engine.pipeline`).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

from dragoman.engine.batcher import Batcher
from dragoman.engine.breaker import CircuitBreaker
from dragoman.engine.cache import SegmentCache, TranslationCache, model_identity
from dragoman.engine.config import BatchingConfig, ModelSpec
from dragoman.engine.detection import detect_candidates
from dragoman.engine.errors import ShuttingDown
from dragoman.engine.glossary_store import GlossaryStore
from dragoman.engine.langid import LanguageCandidate
from dragoman.engine.load_checks import DEFAULT_MEMORY_HEADROOM
from dragoman.engine.model import TranslationModel
from dragoman.engine.observer import EngineObserver, EngineStats, NullObserver, StatsCounter
from dragoman.engine.pipeline import Pipeline, Served
from dragoman.engine.plan import TextPreparer
from dragoman.engine.registry import ModelRegistry, VersionObserver
from dragoman.engine.types import (
    CallContext,
    LanguageInfo,
    ModelInfo,
    StreamConfig,
    StreamUpdate,
    Translation,
    TranslationRequest,
)
from dragoman.engine.validation import (
    RequestLimits,
    check_candidates,
    check_contents,
    check_languages,
    check_name,
    check_text,
    stream_options,
)

__all__ = ["BatchingConfig", "EngineObserver", "EngineStats", "ModelSpec", "TranslationEngine"]

logger = logging.getLogger(__name__)

DEFAULT_BATCHING = BatchingConfig()
DEFAULT_LIMITS = RequestLimits()


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
        memory_headroom: float = DEFAULT_MEMORY_HEADROOM,
        limits: RequestLimits = DEFAULT_LIMITS,
    ) -> None:
        """Describes the engine; nothing loads until `load()`.

        Args:
            models: The models to load; names must be unique.
            default_model: The model used when a request names none (default: the first).
            batching: Batcher settings, shared by every model.
            observer: Receives batch and queue events (metrics).
            cache: Per-segment translation cache (looked up before batching).
            breaker: Circuit breaker around the CTranslate2 calls (and nothing else).
            memory_headroom: A version loads only when free memory exceeds its
                `model.bin` size times this.
            limits: How much one request may ask for (checked before any work).
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
        #: The loaded versions of every model name (admin calls change it at run time).
        self.registry = ModelRegistry(
            self._open_version, self._warm_version, self._default,
            observer=observer if isinstance(observer, VersionObserver) else None,
            memory_headroom=memory_headroom,
        )  # fmt: skip
        self._loaded = False
        self._closing = False
        self._in_flight = 0
        #: Stored glossaries that requests may name (set by the server's wiring).
        self.glossaries: GlossaryStore | None = None
        self._idle = threading.Condition()
        self.cache = cache
        self.breaker = breaker
        #: How much one request may ask for; callers that split work read it.
        self.limits = limits
        self._pipeline = Pipeline(
            self._stats,
            SegmentCache(cache) if cache is not None else None,
            lambda: self.glossaries,
        )

    # --- lifecycle -----------------------------------------------------------------

    def load(self) -> None:
        """Loads every model (ModelLoadError on failure) and starts its batcher."""
        for spec in self._specs:
            if not self.registry.versions(spec.name):
                self.registry.load(spec, warm=False)
        self._loaded = True

    def warmup(self) -> None:
        """Runs one real translation per model, so the first request is not slow."""
        for version in self.registry.loaded():
            started = time.monotonic()
            self._warm_version(version.served)
            version.warmup_seconds = time.monotonic() - started
            logger.info("warmed up model %s in %.2fs", version.key, version.warmup_seconds)

    def _open_version(self, spec: ModelSpec) -> Served:
        """A model version and its batcher (the registry's opener; `spec.name` is the
        version's key, `name` or `name@version`)."""
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
        identity = model_identity(model.manifest.path, model.compute_type)
        if spec.version:  # versions never share cache entries, whatever their files
            identity = hashlib.sha256(f"{identity}\0{spec.name}".encode()).hexdigest()
        preparer = TextPreparer(
            model.tokenizer, model.max_segment_pieces, model.family.preferred_source_tokens
        )
        return Served(model, batcher, preparer, identity)

    def _warm_version(self, served: Served) -> None:
        """One real translation through the pipeline on a version (before it serves)."""
        codes = served.model.languages.codes
        target = codes[1] if len(codes) > 1 else codes[0]
        with self._call():
            request = TranslationRequest(("Hello.",), target, codes[0])
            self._pipeline.translate(served, request, CallContext())

    def shutdown(self, timeout: float) -> None:
        """Refuses new work (ShuttingDown), waits for in-flight calls, stops batchers."""
        end = time.monotonic() + timeout
        with self._idle:
            self._closing = True
            while self._in_flight and time.monotonic() < end:
                self._idle.wait(max(end - time.monotonic(), 0.0))
        self.registry.close(max(end - time.monotonic(), 0.0))

    @property
    def stats(self) -> EngineStats:
        """Counters since start (batches run, segments, largest batch, ...)."""
        depth = sum(version.served.batcher.depth for version in self.registry.loaded())
        return self._stats.snapshot(queue_depth=depth)

    @property
    def ready(self) -> bool:
        """True once every model is loaded and the engine is not shutting down."""
        return self._loaded and not self._closing

    # --- catalogue -----------------------------------------------------------------

    def list_models(self) -> list[ModelInfo]:
        """The loaded model names with their versions, sorted by name."""
        models = []
        for name in self.registry.names():
            model = self.registry.live(name).model
            models.append(
                ModelInfo(
                    name=name,
                    family=model.family.name,
                    device=model.device,
                    compute_type=model.compute_type,
                    language_codes=model.languages.codes,
                    default=name == self.registry.default_name,
                    versions=self.registry.versions(name),
                )
            )
        return models

    def pin(self, model: str, ctx: CallContext) -> AbstractContextManager[CallContext]:
        """Picks the version of `model` once: calls made with the context it yields (a
        stream's segments, a document's waves) stay on that version, which is not
        unloaded meanwhile."""
        return self.registry.pin(model, ctx)

    def list_languages(self, model: str = "") -> list[LanguageInfo]:
        """The languages of `model` (default model when empty), sorted by code."""
        check_name(model, "model")
        return self._resolve(model).model.languages.languages

    def detect_language(
        self, texts: Sequence[str], model: str = "", max_candidates: int = 0
    ) -> list[list[LanguageCandidate]]:
        """Language candidates of each text (`max_candidates`, 0: the default 3), mapped to
        `model`'s codes, best first."""
        check_name(model, "model")
        check_contents(texts, self.limits)
        max_candidates = check_candidates(max_candidates)
        with self.registry.lease(model, CallContext()) as version:
            return [detect_candidates(version.model, text, max_candidates) for text in texts]

    # --- translation ---------------------------------------------------------------

    def translate(self, request: TranslationRequest, ctx: CallContext) -> list[Translation]:
        """Translates every text of `request`; one `Translation` per text, in order.

        Raises:
            ModelNotFound, UnsupportedLanguage, InvalidOption, InputTooLong: Bad request.
            Overloaded, DeadlineExceeded, Cancelled, ShuttingDown: Could not serve it now.
        """
        with self._call():
            check_languages(request.target_language, request.source_language, request.model)
            check_contents(request.texts, self.limits)
            with self.registry.lease(request.model, ctx) as version:
                return version.relabel(self._pipeline.translate(version.served, request, ctx))

    def check_stream(self, config: StreamConfig) -> None:
        """Validates a stream's settings once, before its segments (InvalidRequest family,
        ModelNotFound, UnsupportedLanguage)."""
        check_languages(config.target_language, config.source_language, config.model, "config.")
        stream_options(config)
        served = self._resolve(config.model)
        served.model.languages.resolve(config.target_language, role="target")

    def stream_segment(
        self,
        segment_id: str,
        text: str,
        config: StreamConfig,
        ctx: CallContext,
        where: str = "",
    ) -> Iterator[StreamUpdate]:
        """Translates one streamed segment: interim updates (is_final False), then a final.

        Interim results (`config.interim`) need greedy decoding: an unset beam size means
        1 there, and an explicit beam search is refused (InvalidOption). See
        `StreamUpdate.offset` for how interim updates build the translation so far.
        `where` names the segment in error messages (default: by its id).
        """
        with self._call():
            check_languages(config.target_language, config.source_language, config.model,
                            "config.")  # fmt: skip
            check_text(text, where or f"segment {segment_id!r}", self.limits)
            with self.registry.lease(config.model, ctx) as version:
                for update in self._pipeline.stream(version.served, segment_id, text, config,
                                                    ctx):  # fmt: skip
                    yield version.relabel_update(update)

    # --- helpers -------------------------------------------------------------------

    def _resolve(self, name: str) -> Served:
        """The live version of the model `name` names (default when empty): catalogue
        calls; translations lease a routed version through `registry.lease`."""
        return self.registry.live(name).served

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
