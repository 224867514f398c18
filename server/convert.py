"""Protobuf <-> domain types. The only module that knows both sides.

Requests are validated while they are converted (server/validation.py), so the
engine receives only requests within the server's limits.
"""

from __future__ import annotations

from collections.abc import Iterable

from dragoman.engine.errors import InvalidOption
from dragoman.engine.types import (
    DecodingOptions,
    LanguageInfo,
    ModelInfo,
    StreamUpdate,
    Translation,
    TranslationRequest,
)
from dragoman.server import validation
from dragoman.server.settings import LimitSettings

from dragoman.translation.v1 import translation_service_pb2 as pb

#: Quality level -> beam size.
BEAM_BY_QUALITY: dict[int, int] = {
    pb.QUALITY_UNSPECIFIED: validation.DEFAULT_BEAM_SIZE,
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
    validation.check_contents(request.contents, limits)
    return TranslationRequest(
        texts=tuple(request.contents),
        target_language=request.target_language_code.strip(),
        source_language=request.source_language_code.strip(),
        model=request.model.strip(),
        options=options_from_proto(request.options),
    )


def translation_to_proto(translation: Translation, return_scores: bool) -> pb.Translation:
    """One engine translation as a protobuf message."""
    message = pb.Translation(
        translated_text=translation.text,
        detected_language_code=translation.source_language,
        model=translation.model,
        cached=translation.cached,
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
            )
            for model in sorted(models, key=lambda model: model.name)
        ]
    )
