"""Protobuf <-> domain types. The only module that knows both sides.

Requests are validated while they are converted (server/validation.py), so the
engine receives only requests within the server's limits.
"""

from __future__ import annotations

from collections.abc import Iterable

from dragoman.engine.errors import InvalidOption
from dragoman.engine.features import MIME_TYPES, TextFeatures
from dragoman.engine.glossary_store import check_name
from dragoman.engine.langid import LanguageCandidate
from dragoman.engine.terminology import MAX_GLOSSARY_ENTRIES, GlossaryEntry, validate_entries
from dragoman.engine.types import (
    DecodingOptions,
    LanguageInfo,
    ModelInfo,
    StreamConfig,
    StreamUpdate,
    Translation,
    TranslationRequest,
)
from dragoman.server import validation
from dragoman.server.settings import LimitSettings

from dragoman.translation.v1 import translation_service_pb2 as pb

#: Quality level -> beam size (0: the engine's default).
BEAM_BY_QUALITY: dict[int, int] = {
    pb.QUALITY_UNSPECIFIED: 0,
    pb.QUALITY_FAST: 1,
    pb.QUALITY_BALANCED: 2,
    pb.QUALITY_BEST: 4,
}


def options_from_proto(options: pb.TranslationOptions) -> DecodingOptions:
    """Validated decoding options; zero fields take the server's defaults.

    Raises:
        InvalidOption: A field is out of its bounds.
    """
    if options.quality not in BEAM_BY_QUALITY:
        valid = ", ".join(pb.Quality.Name(q) for q in sorted(BEAM_BY_QUALITY))
        raise InvalidOption(
            f"options.quality {options.quality} is not a known level; use one of: {valid}"
        )
    check = validation.check_option
    beam = int(check("beam_size", options.beam_size)) or BEAM_BY_QUALITY[options.quality]
    alternatives = int(check("num_alternatives", options.num_alternatives))
    return DecodingOptions(
        # Alternatives come from the beam: widen it rather than refuse (as documented).
        beam_size=max(beam, alternatives),
        num_alternatives=alternatives,
        return_scores=options.return_scores,
        max_output_tokens=int(check("max_output_tokens", options.max_output_tokens)),
        repetition_penalty=check("repetition_penalty", options.repetition_penalty),
        no_repeat_ngram_size=int(check("no_repeat_ngram_size", options.no_repeat_ngram_size)),
        length_penalty=check("length_penalty", options.length_penalty),
    )


def request_from_proto(
    request: pb.TranslateTextRequest, limits: LimitSettings
) -> TranslationRequest:
    """A validated engine request from a TranslateText request."""
    validation.check_target(request.target_language_code)
    validation.check_names("", request.source_language_code, request.model)
    validation.check_contents(request.contents, limits)
    return TranslationRequest(
        texts=tuple(request.contents),
        target_language=request.target_language_code.strip(),
        source_language=request.source_language_code.strip(),
        model=request.model.strip(),
        options=options_from_proto(request.options),
        features=features_from_proto(request),
    )


def stream_config_from_proto(config: pb.StreamingTranslationConfig) -> StreamConfig:
    """The engine's stream settings from a stream's validated first message."""
    return StreamConfig(
        target_language=config.target_language_code.strip(),
        source_language=config.source_language_code.strip(),
        model=config.model.strip(),
        options=options_from_proto(config.options),
        interim=config.interim_results,
        features=features_from_proto(config),
    )


def features_from_proto(
    message: pb.TranslateTextRequest | pb.StreamingTranslationConfig,
) -> TextFeatures:
    """Validated translation features (mime type, glossary, do-not-translate).

    Raises:
        InvalidOption: Unknown mime type, bad glossary name or entries, empty or too
            many do-not-translate terms.
    """
    mime = message.mime_type.strip().lower()
    if mime not in MIME_TYPES:
        valid = ", ".join(t for t in MIME_TYPES if t)
        raise InvalidOption(
            f"mime_type {message.mime_type!r} is not supported; use one of: {valid}"
        )
    config = message.glossary_config
    entries = tuple(GlossaryEntry(e.source_term, e.target_term) for e in config.entries)
    validate_entries(entries, "glossary_config.entries")
    name = config.glossary.strip()
    if name:
        check_name(name)
    terms = tuple(message.do_not_translate)
    if len(terms) > MAX_GLOSSARY_ENTRIES:
        raise InvalidOption(
            f"do_not_translate has {len(terms)} terms; at most {MAX_GLOSSARY_ENTRIES} are allowed"
        )
    for index, term in enumerate(terms):
        if not term.strip() or term != term.strip():
            raise InvalidOption(
                f"do_not_translate[{index}] is {term!r}: terms must be non-empty and have no "
                "surrounding spaces"
            )
    return TextFeatures(
        glossary_entries=entries,
        glossary_ignore_case=config.ignore_case,
        glossary_name=name,
        do_not_translate=terms,
        protect_placeholders=not message.disable_placeholder_protection,
        mime_type=mime,
    )


def translation_to_proto(translation: Translation, return_scores: bool) -> pb.Translation:
    """One engine translation as a protobuf message."""
    message = pb.Translation(
        translated_text=translation.text,
        detected_language_code=translation.source_language,
        model=translation.model,
        cached=translation.cached,
        applied_glossary_entries=[
            pb.GlossaryEntry(source_term=e.source, target_term=e.target)
            for e in translation.glossary_applied
        ],
    )
    if return_scores and translation.score is not None:
        message.score = translation.score
    for alternative in translation.alternatives:
        item = message.alternatives.add(translated_text=alternative.text)
        if return_scores and alternative.score is not None:
            item.score = alternative.score
    return message


def response_to_proto(
    translations: Iterable[Translation], options: DecodingOptions
) -> pb.TranslateTextResponse:
    """The TranslateText response, one translation per text in request order."""
    return pb.TranslateTextResponse(
        translations=[translation_to_proto(t, options.return_scores) for t in translations]
    )


def update_to_proto(update: StreamUpdate) -> pb.StreamTranslateTextResponse:
    """One interim or final stream result as a protobuf message."""
    return pb.StreamTranslateTextResponse(
        segment_id=update.segment_id,
        translated_text=update.text,
        is_final=update.is_final,
        detected_language_code=update.source_language,
        model=update.model,
        text_offset=update.offset,
    )


def languages_to_proto(languages: Iterable[LanguageInfo]) -> pb.ListLanguagesResponse:
    """ListLanguages' response, sorted by code."""
    return pb.ListLanguagesResponse(
        languages=[
            pb.Language(
                language_code=lang.code, display_name=lang.display_name, aliases=lang.aliases
            )
            for lang in sorted(languages, key=lambda lang: lang.code)
        ]
    )


def models_to_proto(models: Iterable[ModelInfo]) -> pb.ListModelsResponse:
    """ListModels' response, sorted by name."""
    return pb.ListModelsResponse(
        models=[
            pb.Model(
                name=model.name,
                family=model.family,
                device=model.device,
                compute_type=model.compute_type,
                language_codes=model.language_codes,
                default=model.default,
                versions=[
                    pb.ModelVersion(version=v.version, model=v.label, weight=v.weight, live=v.live)
                    for v in model.versions
                ],
            )
            for model in sorted(models, key=lambda model: model.name)
        ]
    )


def detections_to_proto(
    detections: Iterable[Iterable[LanguageCandidate]],
) -> pb.DetectLanguageResponse:
    """DetectLanguage's response, one detection per text in request order."""
    return pb.DetectLanguageResponse(
        detections=[
            pb.LanguageDetection(
                languages=[
                    pb.DetectedLanguage(
                        language_code=c.code, confidence=c.confidence, supported=c.supported
                    )
                    for c in candidates
                ]
            )
            for candidates in detections
        ]
    )
