"""Domain types shared by engine/ and its callers. No protobuf here."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dragoman.engine.features import DEFAULT_FEATURES, TextFeatures
from dragoman.engine.terminology import GlossaryEntry

#: Most tokens generated per sentence (the bound of `max_output_tokens`, and the cap
#: of the automatic length).
MAX_OUTPUT_TOKENS = 1024

if TYPE_CHECKING:
    from dragoman.engine.versions import Version


@dataclass(frozen=True)
class DecodingOptions:
    """Decoding settings for one request, already validated by the caller's edge.

    Attributes:
        beam_size: Beam width; 1 is greedy, 0 the engine's default (2, or 1 for a
            stream with interim results).
        num_alternatives: Extra hypotheses to return per text (0 = none).
        return_scores: Whether to return average log-probabilities.
        max_output_tokens: Cap on generated tokens per sentence; 0 = automatic
            (proportional to the sentence's length).
        repetition_penalty: CTranslate2 repetition penalty (1.0 = off).
        no_repeat_ngram_size: Forbid repeated n-grams of this size (0 = off).
        length_penalty: Beam search length normalisation exponent.
    """

    beam_size: int = 0
    num_alternatives: int = 0
    return_scores: bool = False
    max_output_tokens: int = 0
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    length_penalty: float = 1.0


class CancelEvent(threading.Event):
    """A `threading.Event` that also calls listeners when set, so waiters need no polling."""

    def __init__(self) -> None:
        super().__init__()
        self._listeners: list[Callable[[], None]] = []
        self._listeners_lock = threading.Lock()

    def set(self) -> None:
        """Sets the flag and calls every listener once."""
        super().set()
        with self._listeners_lock:
            listeners, self._listeners = self._listeners, []
        for listener in listeners:
            listener()

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Calls `listener` when the event is set (at once if it is); returns an unsubscribe."""
        with self._listeners_lock:
            if not self.is_set():
                self._listeners.append(listener)
                return lambda: self._unsubscribe(listener)
        listener()
        return lambda: None

    def _unsubscribe(self, listener: Callable[[], None]) -> None:
        with self._listeners_lock, contextlib.suppress(ValueError):
            self._listeners.remove(listener)


@dataclass(frozen=True)
class CallContext:
    """What the engine needs to know about the caller of one request.

    Attributes:
        deadline: Absolute `time.monotonic()` by which the caller needs the
            answer, or None for no deadline.
        cancelled: Set when the caller has gone away (a `CancelEvent` wakes waiters
            at once; a plain `threading.Event` is polled).
        request_id: For logs.
        routing_key: Who the caller is, for sticky routing between model versions
            (an API key, or the `x-dragoman-routing-key` header); empty = no preference.
        pinned: The model version a stream started on; its later calls stay on it
            (set by `TranslationEngine.pin`).
    """

    deadline: float | None = None
    cancelled: threading.Event = field(default_factory=CancelEvent)
    request_id: str = ""
    routing_key: str = ""
    pinned: Version | None = None


@dataclass(frozen=True)
class TranslationRequest:
    """A batch of texts with one language pair and one model.

    Attributes:
        texts: The texts to translate; each may hold many sentences.
        target_language: Target code, model code or alias.
        source_language: Source code, model code or alias; empty = detect.
        model: Model name; empty = the default model.
        options: Decoding options.
        features: Glossaries, do-not-translate terms, placeholder protection, mime type.
    """

    texts: tuple[str, ...]
    target_language: str
    source_language: str = ""
    model: str = ""
    options: DecodingOptions = DecodingOptions()
    features: TextFeatures = DEFAULT_FEATURES


@dataclass(frozen=True)
class StreamConfig:
    """The settings of one translation stream, sent once before its segments.

    Attributes:
        target_language: Target code, model code or alias.
        source_language: Source code, model code or alias; empty = detect per segment.
        model: Model name; empty = the default model.
        options: Decoding options.
        interim: Also send partial translations while a segment is decoded.
        features: Glossaries, do-not-translate terms, placeholder protection, mime type.
    """

    target_language: str
    source_language: str = ""
    model: str = ""
    options: DecodingOptions = DecodingOptions()
    interim: bool = False
    features: TextFeatures = DEFAULT_FEATURES


@dataclass(frozen=True)
class Alternative:
    """One alternative translation of a whole text."""

    text: str
    score: float | None = None


@dataclass(frozen=True)
class Translation:
    """The translation of one text.

    Attributes:
        text: The translated text with the source's whitespace restored.
        source_language: The model code of the source language (detected or given).
        model: Name of the model that translated it.
        score: Average log-probability per token, when asked for.
        alternatives: Alternative translations, best first, when asked for.
        cached: True when every sentence came from the translation cache.
        glossary_applied: Glossary entries whose source term occurs in the text and
            whose target was forced into the translation.
    """

    text: str
    source_language: str
    model: str
    score: float | None = None
    alternatives: tuple[Alternative, ...] = ()
    cached: bool = False
    glossary_applied: tuple[GlossaryEntry, ...] = ()


@dataclass(frozen=True)
class StreamUpdate:
    """A partial (interim) or final translation of one streamed segment.

    Attributes:
        segment_id: The segment's id.
        text: Final: the whole translation. Interim: the translation from `offset` on.
        is_final: Whether this is the segment's final result.
        source_language: The model code of the source language.
        model: Name of the model.
        offset: Interim only: where `text` starts in the translation so far, in
            characters; the translation so far is the previous one's first `offset`
            characters followed by `text`. Finished sentences are sent once, not with
            every token.
    """

    segment_id: str
    text: str
    is_final: bool
    source_language: str
    model: str
    offset: int = 0


@dataclass(frozen=True)
class LanguageInfo:
    """A language a model serves."""

    code: str
    display_name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class VersionInfo:
    """One loaded version of a model name.

    Attributes:
        version: The version label (`initial` for a model served without one).
        label: What responses it answers put in `model` (`name@version`, or `name`).
        state: `ready` (may take traffic) or `draining` (being unloaded).
        weight: Percent of the name's traffic routed to it.
        live: The version with the largest weight; languages are listed from it.
        directory: The CTranslate2 model directory.
        in_flight: Requests and streams using it now.
        load_seconds: Time it took to load.
        warmup_seconds: Time its warm-up translation took.
    """

    version: str
    label: str
    state: str
    weight: int
    live: bool
    directory: str
    in_flight: int = 0
    load_seconds: float = 0.0
    warmup_seconds: float = 0.0


@dataclass(frozen=True)
class ModelInfo:
    """A loaded model name, as ListModels reports it (fields from its live version)."""

    name: str
    family: str
    device: str
    compute_type: str
    language_codes: tuple[str, ...]
    default: bool = False
    versions: tuple[VersionInfo, ...] = ()
