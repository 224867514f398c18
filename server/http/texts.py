"""Translating and detecting texts for the compatible APIs, on the engine's domain types.

LibreTranslate and DeepL differ in field names and codes but ask the engine the same
things; this module asks them once: validate the texts at the edge (the gRPC limits,
named after the API's own field), build a `TranslationRequest`, translate, and detect
the source language with a confidence when the caller asked for detection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dragoman.engine import validation
from dragoman.engine.errors import InvalidRequest
from dragoman.engine.features import TextFeatures
from dragoman.engine.langid import LanguageCandidate
from dragoman.engine.types import DecodingOptions, Translation, TranslationRequest
from dragoman.server.http.codes import CodeBook, code_book, respell
from dragoman.server.http.frontend import Call, Frontend


def text_list(value: Any, field: str) -> tuple[list[str], bool]:
    """The texts of a `q`/`text` field and whether it was a list.

    Raises:
        InvalidRequest: The field is missing, or holds something other than text.
    """
    if value is None or value == "" or value == []:
        raise InvalidRequest(f"Invalid request: missing {field} parameter")
    batch = isinstance(value, list)
    texts = value if batch else [value]
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            where = f"{field}[{index}]" if batch else field
            raise InvalidRequest(
                f"Invalid request: {where} must be a string, got {type(text).__name__}"
            )
    return texts, batch


def characters(value: Any) -> int:
    """Input characters of a `q`/`text` field, for the rate limits (0 when malformed)."""
    texts = value if isinstance(value, list) else [value]
    return sum(len(text) for text in texts if isinstance(text, str))


@dataclass(frozen=True)
class TextJob:
    """One translation request of a compatible API, in the engine's terms.

    Attributes:
        texts: The texts.
        field: What the API calls them (`q`, `text`), for messages.
        source: The client's source code; empty = detect.
        target: The client's target code.
        mime_type: `text/plain`, `text/html` or `text/xml`.
        alternatives: Alternative translations wanted per text, besides the best one.
        glossary: A stored glossary's name, or "".
    """

    texts: Sequence[str]
    field: str
    source: str
    target: str
    mime_type: str = ""
    alternatives: int = 0
    glossary: str = ""


@dataclass(frozen=True)
class TextResult:
    """A job's translations and, when the source was detected, the detections.

    Attributes:
        translations: One per text, in order.
        book: The model's code book (for the API's spelling of codes).
        confidence: Per text, the detector's confidence (0 to 1) in the detected
            source; empty when the caller named the source.
    """

    translations: list[Translation]
    book: CodeBook
    confidence: list[float]

    def alternatives(self, index: int, wanted: int) -> list[str]:
        """Up to `wanted` alternatives of text `index`, other than its translation."""
        translation = self.translations[index]
        seen = {translation.text}
        out: list[str] = []
        for alternative in translation.alternatives:
            if alternative.text not in seen and len(out) < wanted:
                seen.add(alternative.text)
                out.append(alternative.text)
        return out


def translate(frontend: Frontend, call: Call, job: TextJob) -> TextResult:
    """Validates and translates `job` (blocking: run it through `Frontend.call`).

    Raises:
        EngineError: Bad input, unknown codes, overload: the caller maps it.
    """
    # The engine checks all of it again; here its messages name the API's own fields.
    validation.check_contents(job.texts, frontend.engine.limits, job.field)
    validation.check_name(job.source, "source")
    validation.check_name(job.target, "target")
    bound = validation.OPTION_BOUNDS["num_alternatives"].high
    if not 0 <= job.alternatives < bound:
        raise InvalidRequest(
            f"Invalid request: alternatives must be between 0 and {int(bound) - 1}, "
            f"got {job.alternatives}"
        )
    # LibreTranslate's alternatives exclude the translation; the engine's include it.
    # The engine widens the beam to fit them.
    options = DecodingOptions(num_alternatives=job.alternatives + 1 if job.alternatives else 0)
    request = TranslationRequest(
        texts=tuple(job.texts),
        target_language=respell(job.target),
        source_language=respell(job.source),
        options=options,
        features=TextFeatures(mime_type=job.mime_type, glossary_name=job.glossary),
    )
    translations = frontend.engine.translate(request, call.context)
    book = code_book(frontend.engine.list_languages(translations[0].model))
    target = book.resolve(job.target) or ""
    call.labels = (translations[0].model, f"{translations[0].source_language}->{target}")
    confidence = [] if job.source else _confidences(frontend, job.texts, translations)
    return TextResult(translations, book, confidence)


def _confidences(
    frontend: Frontend, texts: Sequence[str], translations: Sequence[Translation]
) -> list[float]:
    detections = frontend.engine.detect_language(list(texts), translations[0].model, 3)
    return [
        _confidence(candidates, translation.source_language)
        for candidates, translation in zip(detections, translations, strict=True)
    ]


def _confidence(candidates: Sequence[LanguageCandidate], code: str) -> float:
    return next((c.confidence for c in candidates if c.code == code), 0.0)
