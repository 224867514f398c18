"""Protobuf <-> client types. The only module of the client that knows the messages."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from dragoman.clients.types import (
    Alternative,
    DetectedLanguage,
    DocumentTranslation,
    Glossary,
    GlossaryEntry,
    Language,
    Model,
    StreamResult,
    Translation,
    TranslationOptions,
)

from dragoman.translation.v1 import translation_service_pb2 as pb

#: `TranslationOptions.quality` names -> proto enum values.
QUALITIES: dict[str, int] = {
    "": pb.QUALITY_UNSPECIFIED,
    "fast": pb.QUALITY_FAST,
    "balanced": pb.QUALITY_BALANCED,
    "best": pb.QUALITY_BEST,
}


#: TranslationOptions fields that are request fields, not decoding options.
_REQUEST_LEVEL = {
    "mime_type": "",
    "glossary": None,
    "do_not_translate": (),
    "protect_placeholders": True,
}


def options_to_proto(options: TranslationOptions | None) -> pb.TranslationOptions | None:
    """Builds the proto decoding options, or None when all are the server default."""
    if options is None or replace(options, **_REQUEST_LEVEL) == TranslationOptions():
        return None
    if options.quality not in QUALITIES:
        valid = ", ".join(repr(q) for q in QUALITIES if q)
        raise ValueError(f"quality {options.quality!r} is not one of {valid}")
    return pb.TranslationOptions(
        quality=QUALITIES[options.quality],  # type: ignore[arg-type]
        beam_size=options.beam_size,
        num_alternatives=options.num_alternatives,
        return_scores=options.return_scores,
        max_output_tokens=options.max_output_tokens,
        repetition_penalty=options.repetition_penalty,
        no_repeat_ngram_size=options.no_repeat_ngram_size,
        length_penalty=options.length_penalty,
    )


def _glossary(glossary: Glossary | None) -> pb.TranslationGlossaryConfig | None:
    if glossary is None:
        return None
    return pb.TranslationGlossaryConfig(
        glossary=glossary.name,
        entries=[
            pb.GlossaryEntry(source_term=e.source_term, target_term=e.target_term)
            for e in glossary.entries
        ],
        ignore_case=glossary.ignore_case,
    )


def _shared_fields(
    target: str, source: str, model: str, options: TranslationOptions | None
) -> dict[str, Any]:
    """Fields TranslateTextRequest and StreamingTranslationConfig have in common."""
    options = options or TranslationOptions()
    return {
        "source_language_code": source,
        "target_language_code": target,
        "model": model,
        "options": options_to_proto(options),
        "mime_type": options.mime_type,
        "glossary_config": _glossary(options.glossary),
        "do_not_translate": list(options.do_not_translate),
        "disable_placeholder_protection": not options.protect_placeholders,
    }


def translate_request(
    contents: Sequence[str],
    target: str,
    source: str = "",
    model: str = "",
    options: TranslationOptions | None = None,
) -> pb.TranslateTextRequest:
    """Builds a TranslateTextRequest."""
    return pb.TranslateTextRequest(
        contents=list(contents), **_shared_fields(target, source, model, options)
    )


def stream_config(
    target: str,
    source: str = "",
    model: str = "",
    options: TranslationOptions | None = None,
    interim_results: bool = False,
) -> pb.StreamTranslateTextRequest:
    """Builds the first message of a translation stream."""
    return pb.StreamTranslateTextRequest(
        config=pb.StreamingTranslationConfig(
            interim_results=interim_results, **_shared_fields(target, source, model, options)
        )
    )


def document_request(
    content: bytes,
    target: str,
    file_name: str = "",
    mime_type: str = "",
    source: str = "",
    model: str = "",
    options: TranslationOptions | None = None,
) -> pb.StreamTranslateDocumentRequest:
    """Builds a StreamTranslateDocumentRequest (the document and TranslateText's settings)."""
    shared = _shared_fields(target, source, model, options)
    del shared["mime_type"]  # a document's format travels in `document.mime_type`
    document = pb.Document(content=content, file_name=file_name, mime_type=mime_type)
    return pb.StreamTranslateDocumentRequest(
        request=pb.TranslateDocumentRequest(document=document, **shared)
    )


#: The error message when a document stream ends without its result.
NO_DOCUMENT = "the server ended the stream without the document"


def document_step(
    message: pb.StreamTranslateDocumentResponse,
    progress: Callable[[int, int], None] | None,
) -> DocumentTranslation | None:
    """The document when `message` carries it; else reports its progress and returns None."""
    if message.WhichOneof("event") == "result":
        return document_translation(message.result)
    if progress is not None:
        update = message.progress
        progress(update.translated_segment_count, update.total_segment_count)
    return None


def document_translation(message: pb.TranslateDocumentResponse) -> DocumentTranslation:
    """Converts a TranslateDocumentResponse."""
    return DocumentTranslation(
        content=message.document.content,
        mime_type=message.document.mime_type,
        file_name=message.document.file_name,
        detected_language=message.detected_language_code,
        model=message.model,
        segment_count=message.segment_count,
        character_count=message.character_count,
    )


def stream_segment(segment_id: str, text: str) -> pb.StreamTranslateTextRequest:
    """Builds a segment message of a translation stream."""
    return pb.StreamTranslateTextRequest(
        segment=pb.TranslationSegment(segment_id=segment_id, text=text)
    )


def translation(message: pb.Translation) -> Translation:
    """Converts one Translation message."""
    return Translation(
        text=message.translated_text,
        detected_language=message.detected_language_code,
        model=message.model,
        score=message.score,
        alternatives=tuple(
            Alternative(text=a.translated_text, score=a.score) for a in message.alternatives
        ),
        cached=message.cached,
        applied_glossary_entries=tuple(
            GlossaryEntry(e.source_term, e.target_term) for e in message.applied_glossary_entries
        ),
    )


def stream_result(
    message: pb.StreamTranslateTextResponse, segment_id: str, text: str
) -> StreamResult:
    """Converts one stream response; `segment_id` is the caller's id for it, `text` the
    translation so far (see `StreamLedger.result`)."""
    return StreamResult(
        segment_id=segment_id,
        text=text,
        is_final=message.is_final,
        detected_language=message.detected_language_code,
        model=message.model,
    )


def languages(message: pb.ListLanguagesResponse) -> list[Language]:
    """Converts a ListLanguagesResponse."""
    return [
        Language(
            code=lang.language_code, display_name=lang.display_name, aliases=tuple(lang.aliases)
        )
        for lang in message.languages
    ]


def models(message: pb.ListModelsResponse) -> list[Model]:
    """Converts a ListModelsResponse."""
    return [
        Model(
            name=m.name,
            family=m.family,
            device=m.device,
            compute_type=m.compute_type,
            languages=tuple(m.language_codes),
            default=m.default,
        )
        for m in message.models
    ]


def detections(message: pb.DetectLanguageResponse) -> list[tuple[DetectedLanguage, ...]]:
    """Converts a DetectLanguageResponse: the candidates per text, most likely first."""
    return [
        tuple(
            DetectedLanguage(code=c.language_code, confidence=c.confidence, supported=c.supported)
            for c in detection.languages
        )
        for detection in message.detections
    ]
