"""Protobuf <-> domain types. The only module that knows both sides.

It maps fields only: the engine validates what it receives (`dragoman.engine.validation`,
one bounds table), so every front end gets the same checks and messages. What only the
wire can get wrong (an unknown enum value) is checked here.
"""

from __future__ import annotations

from collections.abc import Iterable

from dragoman.engine.errors import InvalidOption
from dragoman.engine.features import TextFeatures
from dragoman.engine.langid import LanguageCandidate
from dragoman.engine.terminology import GlossaryEntry
from dragoman.engine.types import (
    DecodingOptions,
    LanguageInfo,
    ModelInfo,
    StreamConfig,
    StreamUpdate,
    Translation,
    TranslationRequest,
)

from dragoman.translation.v1 import translation_service_pb2 as pb

#: Quality level -> beam size (0: the engine's default).
BEAM_BY_QUALITY: dict[int, int] = {
    pb.QUALITY_UNSPECIFIED: 0,
    pb.QUALITY_FAST: 1,
    pb.QUALITY_BALANCED: 2,
    pb.QUALITY_BEST: 4,
}


def options_from_proto(options: pb.TranslationOptions) -> DecodingOptions:
    """The decoding options; zero fields mean the engine's defaults (it checks the bounds).

    Raises:
        InvalidOption: `quality` is not a known level.
    """
    if options.quality not in BEAM_BY_QUALITY:
        valid = ", ".join(pb.Quality.Name(q) for q in sorted(BEAM_BY_QUALITY))
        raise InvalidOption(
            f"options.quality {options.quality} is not a known level; use one of: {valid}"
        )
    return DecodingOptions(
        beam_size=options.beam_size or BEAM_BY_QUALITY[options.quality],
        num_alternatives=options.num_alternatives,
        return_scores=options.return_scores,
        max_output_tokens=options.max_output_tokens,
        repetition_penalty=options.repetition_penalty,
        no_repeat_ngram_size=options.no_repeat_ngram_size,
        length_penalty=options.length_penalty,
    )


def request_from_proto(request: pb.TranslateTextRequest) -> TranslationRequest:
    """The engine request of a TranslateText request."""
    return TranslationRequest(
        texts=tuple(request.contents),
        target_language=request.target_language_code.strip(),
        source_language=request.source_language_code.strip(),
        model=request.model.strip(),
        options=options_from_proto(request.options),
        features=features_from_proto(request),
    )


def stream_config_from_proto(config: pb.StreamingTranslationConfig) -> StreamConfig:
    """The engine's stream settings from a stream's first message."""
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
    """The translation features (mime type, glossary, do-not-translate, protection).

    Raises:
        InvalidOption: Unknown mime type (glossaries and terms are checked when the
            engine compiles them).
    """
    config = message.glossary_config
    return TextFeatures(
        glossary_entries=tuple(GlossaryEntry(e.source_term, e.target_term) for e in config.entries),
        glossary_ignore_case=config.ignore_case,
        glossary_name=config.glossary.strip(),
        do_not_translate=tuple(message.do_not_translate),
        protect_placeholders=not message.disable_placeholder_protection,
        mime_type=message.mime_type.strip().lower(),
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
