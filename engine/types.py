"""Domain types shared by engine/ and its callers. No protobuf here."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from dragoman.engine.features import DEFAULT_FEATURES, TextFeatures
from dragoman.engine.terminology import GlossaryEntry


@dataclass(frozen=True)
class DecodingOptions:
    """Decoding settings for one request, already validated by the caller's edge.

    Attributes:
        beam_size: Beam width; 1 is greedy.
        num_alternatives: Extra hypotheses to return per text (0 = none).
        return_scores: Whether to return average log-probabilities.
        max_output_tokens: Cap on generated tokens per sentence; 0 = automatic
            (proportional to the sentence's length).
        repetition_penalty: CTranslate2 repetition penalty (1.0 = off).
        no_repeat_ngram_size: Forbid repeated n-grams of this size (0 = off).
        length_penalty: Beam search length normalisation exponent.
    """

    beam_size: int = 2
    num_alternatives: int = 0
    return_scores: bool = False
    max_output_tokens: int = 0
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    length_penalty: float = 1.0


@dataclass(frozen=True)
class CallContext:
    """What the engine needs to know about the caller of one request.

    Attributes:
        deadline: Absolute `time.monotonic()` by which the caller needs the
            answer, or None for no deadline.
        cancelled: Set when the caller has gone away.
        request_id: For logs.
    """

    deadline: float | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)
    request_id: str = ""


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
    """A partial (interim) or final translation of one streamed segment."""

    segment_id: str
    text: str
    is_final: bool
    source_language: str
    model: str


@dataclass(frozen=True)
class LanguageInfo:
    """A language a model serves."""

    code: str
    display_name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelInfo:
    """A loaded model, as ListModels reports it."""

    name: str
    family: str
    device: str
    compute_type: str
    language_codes: tuple[str, ...]
    default: bool = False
