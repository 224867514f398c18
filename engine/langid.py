"""Language identification: real languages by py3langid, a model's own by profiles.

py3langid ships its model (97 languages plus variants, 4.6 MB) inside its PyPI
package, so detection works offline. A model with languages no detector knows (the
demo model's constructed `qaa_Latn`) can carry `langid.json` beside its weights:
per language, its common words and character-trigram log-probabilities, built from
the model's own training text with `LanguageProfiles.build`. Detected codes are
mapped to the model's codes; a language the model does not serve is reported as
such (`supported=False`), with the detector's ISO 639 code.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROFILE_FILE = "langid.json"
#: Share of a text's words a profile must know to claim the text.
MIN_COVERAGE = 0.5
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_FORMAT_VERSION = 1


@dataclass(frozen=True)
class LanguageCandidate:
    """A possible language of a text.

    Attributes:
        code: The model's code when the model serves the language, else the
            detector's ISO 639 code ("und" when nothing could be told).
        confidence: 0 to 1; the candidates of one text sum to at most 1.
        supported: Whether the model translates from this language.
    """

    code: str
    confidence: float
    supported: bool


def _grams(text: str, n: int) -> Iterable[str]:
    padded = f" {text.lower()} "
    for size in range(1, n + 1):
        for index in range(len(padded) - size + 1):
            yield padded[index : index + size]


class LanguageProfiles:
    """Word lists and character n-gram models of a model's own languages.

    Args:
        words: Per language code, its common words (lowercase).
        grams: Per language code, log-probabilities of its character n-grams.
        floor: Per language code, the log-probability of an unseen n-gram.
        n: Longest n-gram.
    """

    def __init__(
        self,
        words: Mapping[str, Iterable[str]],
        grams: Mapping[str, Mapping[str, float]],
        floor: Mapping[str, float],
        n: int = 3,
    ) -> None:
        self.words = {code: frozenset(w) for code, w in words.items()}
        self.grams = {code: dict(g) for code, g in grams.items()}
        self.floor = dict(floor)
        self.n = n

    @property
    def codes(self) -> tuple[str, ...]:
        """The profiled languages."""
        return tuple(self.words)

    @classmethod
    def build(
        cls, samples: Mapping[str, Iterable[str]], n: int = 3, max_words: int = 5000,
        max_grams: int = 4000,
    ) -> LanguageProfiles:  # fmt: skip
        """Builds profiles from sample sentences per language code."""
        words: dict[str, list[str]] = {}
        grams: dict[str, dict[str, float]] = {}
        floor: dict[str, float] = {}
        for code, sentences in samples.items():
            word_counts: Counter[str] = Counter()
            gram_counts: Counter[str] = Counter()
            for sentence in sentences:
                word_counts.update(w.lower() for w in _WORD.findall(sentence))
                gram_counts.update(_grams(sentence, n))
            words[code] = [w for w, _ in word_counts.most_common(max_words)]
            kept = dict(gram_counts.most_common(max_grams))
            total = sum(kept.values()) + len(kept) + 1
            grams[code] = {g: math.log((c + 1) / total) for g, c in kept.items()}
            floor[code] = math.log(1 / total)
        return cls(words, grams, floor, n)

    @classmethod
    def load(cls, path: Path) -> LanguageProfiles:
        """Reads a `langid.json` file."""
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format_version") != _FORMAT_VERSION:
            raise ValueError(f"{path}: unsupported format_version {data.get('format_version')}")
        languages = data["languages"]
        return cls(
            {c: v["words"] for c, v in languages.items()},
            {c: v["grams"] for c, v in languages.items()},
            {c: v["floor"] for c, v in languages.items()},
            int(data.get("n", 3)),
        )

    def save(self, path: Path) -> None:
        """Writes the profiles as `langid.json`."""
        languages = {
            code: {
                "words": sorted(self.words[code]),
                "grams": self.grams[code],
                "floor": self.floor[code],
            }
            for code in self.codes
        }
        payload = {"format_version": _FORMAT_VERSION, "n": self.n, "languages": languages}
        path.write_text(json.dumps(payload, ensure_ascii=False, sort_keys=True), encoding="utf-8")

    def coverage(self, text: str) -> dict[str, float]:
        """Per language, the share of the text's words in its word list."""
        words = [w.lower() for w in _WORD.findall(text)]
        if not words:
            return dict.fromkeys(self.codes, 0.0)
        return {c: sum(w in known for w in words) / len(words) for c, known in self.words.items()}

    def posterior(self, text: str) -> dict[str, float]:
        """Naive-Bayes probability of each profiled language (uniform prior)."""
        grams = list(_grams(text, self.n))
        scores = {
            code: sum(table.get(g, self.floor[code]) for g in grams)
            for code, table in self.grams.items()
        }
        best = max(scores.values(), default=0.0)
        weights = {c: math.exp(s - best) for c, s in scores.items()}
        total = sum(weights.values()) or 1.0
        return {c: w / total for c, w in weights.items()}


def is_private(code: str) -> bool:
    """Whether `code` is an ISO 639 private-use code (qaa to qtz), e.g. `qaa_Latn`."""
    language = code.split("_")[0].split("-")[0].lower()
    return len(language) == 3 and "qaa" <= language <= "qtz"


_LOCK = threading.Lock()
_IDENTIFIER: Any = None


def _identifier() -> Any:
    # py3langid's model takes about a second to load: once per process.
    global _IDENTIFIER
    with _LOCK:
        if _IDENTIFIER is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _IDENTIFIER = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _IDENTIFIER


class LanguageDetector:
    """Detects the language of texts for one model.

    Args:
        lookup: Maps an ISO 639 code to the model's code, or None when the model does
            not serve it (the model's `LanguageTable.lookup`).
        profiles: Profiles of the model's own languages, if it ships them.
    """

    def __init__(
        self, lookup: Callable[[str], str | None], profiles: LanguageProfiles | None = None
    ) -> None:
        self._lookup = lookup
        self._profiles = profiles
        # Profiled languages no ISO detector can name (private-use codes).
        self._private = {code for code in (profiles.codes if profiles else ()) if is_private(code)}

    def warm(self) -> None:
        """Loads the detector's data now instead of on the first request."""
        _identifier()

    def detect(self, text: str, top_k: int = 3) -> list[LanguageCandidate]:
        """Candidates for `text`'s language, most likely first (at least one)."""
        if not _WORD.search(text):
            return [LanguageCandidate("und", 0.0, False)]
        if self._profiles is not None and self._private:
            coverage = self._profiles.coverage(text)
            best = max(coverage, key=coverage.__getitem__)
            if best in self._private and coverage[best] >= MIN_COVERAGE:
                return self._from_profiles(text, coverage, top_k)
        return self._from_identifier(text, top_k)

    def _from_profiles(
        self, text: str, coverage: Mapping[str, float], top_k: int
    ) -> list[LanguageCandidate]:
        assert self._profiles is not None
        posterior = self._profiles.posterior(text)
        scores = {c: coverage[c] * posterior[c] for c in coverage}
        total = sum(scores.values()) or 1.0
        ranked = sorted(scores, key=scores.__getitem__, reverse=True)[:top_k]
        return [LanguageCandidate(c, scores[c] / total, True) for c in ranked if scores[c] > 0]

    def _from_identifier(self, text: str, top_k: int) -> list[LanguageCandidate]:
        ranked = _identifier().rank(text)
        merged: dict[str, LanguageCandidate] = {}
        for iso, probability in ranked:
            if len(merged) >= top_k:
                break
            model_code = self._lookup(iso)
            code = model_code or iso
            if code in merged:
                continue
            merged[code] = LanguageCandidate(code, float(probability), model_code is not None)
        return list(merged.values())

    def detect_code(self, text: str) -> str | None:
        """The model code to translate `text` from, or None when the model does not
        serve the detected language (with a confident detection)."""
        candidates = self.detect(text, top_k=10)
        if candidates[0].supported:
            return candidates[0].code
        supported = [c for c in candidates if c.supported]
        if candidates[0].confidence < MIN_COVERAGE and supported:
            return supported[0].code
        return None


def load_profiles(model_dir: Path) -> LanguageProfiles | None:
    """The profiles shipped beside a model (`langid.json`), or None."""
    path = model_dir / PROFILE_FILE
    return LanguageProfiles.load(path) if path.is_file() else None
