"""The engine's glue for translation features and language detection.

One `FeatureRuntime` per loaded model holds its `FeatureProcessor` (tokenizer,
glossary store) and its `LanguageDetector` (the model's language table and optional
`langid.json`). `TranslationEngine` calls `translate_featured` for texts that need
terminology, protected spans or markup, and `detect_source` for texts sent without a
source language.
"""

from __future__ import annotations

import html
import re
import threading
import weakref
from collections.abc import Callable
from typing import Any

from dragoman.engine.aligned_decode import model_translate_pieces
from dragoman.engine.detect import detect_language, dominant_script
from dragoman.engine.errors import UnsupportedLanguage
from dragoman.engine.features import FeatureProcessor, TextFeatures
from dragoman.engine.glossary_store import GlossaryStore
from dragoman.engine.langid import (
    MIN_COVERAGE,
    LanguageCandidate,
    LanguageDetector,
    is_private,
    load_profiles,
)
from dragoman.engine.types import Alternative, DecodingOptions, Translation

#: Confidence above which a language the model does not serve is an error.
CONFIDENT = 0.9
#: Most same-script languages the model is asked to tell apart (one scoring each).
_MAX_IDENTIFY = 8
_LOCK = threading.Lock()
_RUNTIMES: weakref.WeakKeyDictionary[Any, FeatureRuntime] = weakref.WeakKeyDictionary()


class FeatureRuntime:
    """Feature processor and language detector of one loaded model."""

    def __init__(self, model: Any) -> None:
        self.processor = FeatureProcessor(model.tokenizer, model.max_segment_pieces)
        profiles = load_profiles(model.manifest.path)
        self.detector = LanguageDetector(model.languages.lookup, profiles)
        # Private-use languages (qaa-qtz) that no profile covers: the ISO detector
        # cannot know them, so its "not served" verdict is not trusted.
        covered = set(profiles.codes) if profiles else set()
        self.has_private = any(
            is_private(code) and code not in covered for code in model.languages.codes
        )


def runtime_for(model: Any) -> FeatureRuntime:
    """The model's runtime, built on first use."""
    with _LOCK:
        runtime = _RUNTIMES.get(model)
        if runtime is None:
            runtime = FeatureRuntime(model)
            _RUNTIMES[model] = runtime
        return runtime


def _guess(model: Any, text: str) -> str:
    # No confident detection: the model's languages in the text's script; among
    # several, the model itself tells (TranslationModel.identify) when it can.
    languages = model.languages.languages
    guess = detect_language(text, languages)
    identify = getattr(model, "identify", None)
    script = dominant_script(text)
    same_script = [lang.code for lang in languages if script and lang.code.endswith("_" + script)]
    if identify is not None and 1 < len(same_script) <= _MAX_IDENTIFY and text.strip():
        return str(identify(text, same_script))
    return guess


def detect_source(model: Any, text: str) -> str:
    """The model code of `text`'s language, detected per text.

    The detector's answer when it names a language the model serves; a guess (see
    `_guess`) when the text has no letters, the detector is unsure (below
    `CONFIDENT`) or the model has private-use languages the detector cannot know.

    Raises:
        UnsupportedLanguage: The detector is confident the text is in a language
            the model does not serve.
    """
    runtime = runtime_for(model)
    candidates = runtime.detector.detect(text, top_k=10)
    best = candidates[0]
    if best.supported and best.confidence >= MIN_COVERAGE:
        return best.code
    if best.code == "und" or best.confidence < CONFIDENT or runtime.has_private:
        return _guess(model, text)
    raise UnsupportedLanguage(
        f"the text is in {best.code!r} (detected with confidence {best.confidence:.2f}), "
        f"which model {model.name!r} does not translate; set source_language_code to one of "
        f"its languages ({', '.join(model.languages.codes[:12])}"
        f"{', ...' if len(model.languages.codes) > 12 else ''}) or use another model"
    )


def detection_text(text: str, features: TextFeatures) -> str:
    """The text language detection looks at: markup without its tags and entities."""
    if not features.is_markup:
        return text
    return html.unescape(re.sub(r"<[^>]*>", " ", text))


def detect_candidates(model: Any, text: str, top_k: int = 3) -> list[LanguageCandidate]:
    """Language candidates of `text` for DetectLanguage, most likely first."""
    return runtime_for(model).detector.detect(text, top_k=top_k)


def translate_featured(
    model: Any,
    runtime: FeatureRuntime,
    text: str,
    source_code: str,
    target_code: str,
    features: TextFeatures,
    options: DecodingOptions,
    before_batch: Callable[[], None],
    glossaries: GlossaryStore | None = None,
) -> Translation:
    """Translates one text through the feature path (decoded with attention)."""
    translate_pieces = model_translate_pieces(
        model, source_code, target_code, options, before_batch
    )
    result = runtime.processor.translate(
        text,
        features,
        translate_pieces,
        max(options.num_alternatives, 1),
        glossaries.get if glossaries else None,
    )
    alternatives: tuple[Alternative, ...] = ()
    if options.num_alternatives > 0:
        alternatives = tuple(
            Alternative(t, s if options.return_scores else None)
            for t, s in zip(result.alternatives, result.scores, strict=True)
        )
    return Translation(
        text=result.text,
        source_language=source_code,
        model=model.name,
        score=result.scores[0] if options.return_scores else None,
        alternatives=alternatives,
        glossary_applied=result.applied,
    )
