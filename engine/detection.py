"""Language detection of the texts a request sends without a source language.

One `DetectionRuntime` per loaded model holds its `LanguageDetector` (the model's
language table and optional `langid.json`). The pipeline calls `detect_source` per
text; DetectLanguage calls `detect_candidates`.
"""

from __future__ import annotations

import html
import re
import threading
import weakref
from typing import Any

from dragoman.engine.detect import detect_language, dominant_script
from dragoman.engine.errors import UnsupportedLanguage
from dragoman.engine.features import TextFeatures
from dragoman.engine.langid import (
    MIN_COVERAGE,
    LanguageCandidate,
    LanguageDetector,
    is_private,
    load_profiles,
)

#: Confidence above which a language the model does not serve is an error.
CONFIDENT = 0.9
#: Most same-script languages the model is asked to tell apart (one scoring each).
_MAX_IDENTIFY = 8
_LOCK = threading.Lock()
_RUNTIMES: weakref.WeakKeyDictionary[Any, DetectionRuntime] = weakref.WeakKeyDictionary()


class DetectionRuntime:
    """The language detector of one loaded model."""

    def __init__(self, model: Any) -> None:
        profiles = load_profiles(model.manifest.path)
        self.detector = LanguageDetector(model.languages.lookup, profiles)
        # Private-use languages (qaa-qtz) that no profile covers: the ISO detector
        # cannot know them, so its "not served" verdict is not trusted.
        covered = set(profiles.codes) if profiles else set()
        self.has_private = any(
            is_private(code) and code not in covered for code in model.languages.codes
        )


def runtime_for(model: Any) -> DetectionRuntime:
    """The model's runtime, built on first use."""
    with _LOCK:
        runtime = _RUNTIMES.get(model)
        if runtime is None:
            runtime = DetectionRuntime(model)
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
