"""Translating a document: load it, send its units through the engine in waves, save it.

Units ride the engine's one pipeline (`TranslationEngine.translate`): plain units as
text/plain, units with runs of formatting as text/html, so the engine's batching,
per-segment cache and markup re-projection apply to documents as to any text.
Between waves the caller's deadline and cancellation are checked and progress is
reported. The source language, when not given, is detected once for the document,
so that short units (a table cell, a heading) are not guessed one by one.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from dragoman.engine.documents import safety
from dragoman.engine.documents.base import DocumentFormat, LoadedDocument, Unit, find_format
from dragoman.engine.documents.errors import CorruptDocument, DocumentError, DocumentTooLarge
from dragoman.engine.features import DEFAULT_FEATURES, TextFeatures
from dragoman.engine.service import TranslationEngine
from dragoman.engine.types import CallContext, DecodingOptions, TranslationRequest
from dragoman.engine.waiting import check_context

logger = logging.getLogger(__name__)

DEFAULT_OPTIONS = DecodingOptions()

#: Called with (units done, units in all) after each wave.
Progress = Callable[[int, int], None]
#: Source characters per wave: enough for full batches, small enough for progress.
WAVE_CHARS = 6000
#: Characters of the document that language detection looks at.
DETECTION_CHARS = 2000
#: Detector confidence above which the document's language is taken as detected.
DETECTION_CONFIDENCE = 0.5


@dataclass(frozen=True)
class DocumentRequest:
    """A document to translate (validated at the edge).

    Attributes:
        content: The file's bytes.
        mime_type: Its mime type; empty = from `file_name`'s extension.
        file_name: Its name (for the format and for messages).
        target_language: Target code, model code or alias.
        source_language: Source code; empty = detected once for the document.
        model: Model name; empty = the default model.
        options: Decoding options.
        features: Glossaries, do-not-translate terms, placeholder protection; the
            mime type is set per unit.
    """

    content: bytes
    target_language: str
    mime_type: str = ""
    file_name: str = ""
    source_language: str = ""
    model: str = ""
    options: DecodingOptions = DEFAULT_OPTIONS
    features: TextFeatures = DEFAULT_FEATURES


@dataclass(frozen=True)
class DocumentProgress:
    """How far a document's translation has come, in units."""

    done: int
    total: int


@dataclass(frozen=True)
class DocumentResult:
    """A translated document.

    Attributes:
        content: The translated file, in the same format.
        mime_type: The format's canonical mime type.
        file_name: The request's file name.
        source_language: Model code of the (detected or given) source language.
        model: The model that translated it.
        units: Translatable units (paragraphs, cells, cues, entries) translated.
        characters: Source characters translated.
    """

    content: bytes
    mime_type: str
    file_name: str
    source_language: str
    model: str
    units: int
    characters: int


def load_document(request: DocumentRequest) -> tuple[DocumentFormat, LoadedDocument]:
    """Finds the format, checks the file and parses it.

    Raises:
        UnsupportedFormat, UnsafeDocument, CorruptDocument, DocumentTooLarge.
    """
    safety.check_name(request.mime_type, request.file_name)
    fmt = find_format(request.mime_type, request.file_name)
    size = len(request.content)
    if not size:
        raise CorruptDocument(f"the {fmt.name} document is empty (0 bytes): send the file")
    if size > fmt.limits.max_bytes:
        raise DocumentTooLarge(
            f"the {fmt.name} document has {size:,} bytes; the limit is "
            f"{fmt.limits.max_bytes:,}: split it"
        )
    if fmt.zipped:
        safety.check_container(fmt, request.content)
    try:
        document = fmt.load(request.content)
    except DocumentError:
        raise
    except Exception as error:  # the libraries raise many kinds of parse errors
        raise CorruptDocument(
            f"the {fmt.name} document cannot be read: {type(error).__name__}: {error}"
        ) from error
    fmt.check_units(document)
    return fmt, document


class DocumentTranslator:
    """Translates documents through a `TranslationEngine`.

    Args:
        engine: The engine (its `translate` is the only entry used).
        wave_chars: Source characters per engine call.
    """

    def __init__(self, engine: TranslationEngine, wave_chars: int = WAVE_CHARS) -> None:
        self._engine = engine
        self._wave_chars = wave_chars

    def translate(
        self, request: DocumentRequest, ctx: CallContext, progress: Progress | None = None
    ) -> DocumentResult:
        """Translates a document; `progress(done, total)` is called after every wave.

        Raises:
            UnsupportedFormat, UnsafeDocument, CorruptDocument, DocumentTooLarge: The file.
            The engine's errors: bad languages or options, overload, deadline, cancel.
        """
        for step in self.steps(request, ctx):
            if isinstance(step, DocumentResult):
                return step
            if progress:
                progress(step.done, step.total)
        raise AssertionError("steps() ends with the result")  # pragma: no cover

    def steps(
        self, request: DocumentRequest, ctx: CallContext
    ) -> Iterator[DocumentProgress | DocumentResult]:
        """Translates a document step by step: progress after every wave, then the result.

        Raises:
            As `translate`.
        """
        fmt, document = load_document(request)
        units = document.units
        source = request.source_language or self._detect(units, request.model)
        groups = _unique(units)
        done = 0
        model = ""
        languages: Counter[str] = Counter()
        yield DocumentProgress(0, len(units))
        # One model version translates the whole document, whatever the traffic split.
        with self._engine.pin(request.model, ctx) as pinned:
            for wave in _waves(list(groups), self._wave_chars, self._engine.limits.max_contents):
                check_context(ctx)
                features = replace(request.features, mime_type="text/html" if wave[0][1] else "")
                engine_request = TranslationRequest(
                    tuple(text for text, _ in wave), request.target_language, source,
                    request.model, request.options, features,
                )  # fmt: skip
                translations = self._engine.translate(engine_request, pinned)
                for key, translation in zip(wave, translations, strict=True):
                    for unit in groups[key]:
                        unit.apply(translation.text)
                    done += len(groups[key])
                    model = translation.model
                    languages[translation.source_language] += len(key[0])
                yield DocumentProgress(done, len(units))
            check_context(ctx)
            yield DocumentResult(
                content=document.save(),
                mime_type=fmt.mime_types[0],
                file_name=request.file_name,
                source_language=languages.most_common(1)[0][0] if languages else source,
                model=model or self._default_model(request.model),
                units=len(units),
                characters=sum(len(unit.plain) for unit in units),
            )

    def _detect(self, units: Sequence[Unit], model: str) -> str:
        sample = ""
        for unit in units:
            sample += unit.plain.strip() + "\n"
            if len(sample) >= DETECTION_CHARS:
                break
        if not sample.strip():
            return ""
        best = self._engine.detect_language([sample], model, 1)[0][0]
        return best.code if best.supported and best.confidence >= DETECTION_CONFIDENCE else ""

    def _default_model(self, model: str) -> str:
        if model:
            return model
        return next((m.name for m in self._engine.list_models() if m.default), "")


_Key = tuple[str, bool]


def _unique(units: Sequence[Unit]) -> dict[_Key, list[Unit]]:
    """Units grouped by (text, markup): each distinct text is translated once."""
    groups: dict[_Key, list[Unit]] = {}
    for unit in units:
        groups.setdefault((unit.text, unit.markup), []).append(unit)
    return groups


def _waves(keys: list[_Key], wave_chars: int, max_texts: int) -> list[list[_Key]]:
    """Plain keys, then markup keys, in waves of about `wave_chars` characters and at
    most `max_texts` texts (the engine's per-request limit).

    Each wave is one engine call of one mime type; a document whose formatted and plain
    paragraphs alternate still makes few, full calls (order does not matter: every unit
    knows where its translation goes).
    """
    waves: list[list[_Key]] = []
    for markup in (False, True):
        size = wave_chars
        for key in keys:
            if key[1] != markup:
                continue
            if size >= wave_chars or len(waves[-1]) >= max_texts:
                waves.append([])
                size = 0
            waves[-1].append(key)
            size += len(key[0])
    return waves
