"""Source-language guess when a request leaves the source empty.

Models here carry no language-identification model. The first step is the writing
system: the script most letters of the text belong to picks the model's languages
written in it; a text in the only Cyrillic language of a model is detected exactly.
When a few languages share the script, `TranslationModel.identify` asks the model
itself (which candidate's decoder finds the text most likely); with many, the most
widely used candidate (a fixed preference list, then the model's order) wins.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence

from dragoman.engine.types import LanguageInfo

# Unicode character-name prefixes -> ISO 15924 script codes used in FLORES-200 codes.
_SCRIPT_OF_NAME = {
    "LATIN": "Latn", "CYRILLIC": "Cyrl", "ARABIC": "Arab", "GREEK": "Grek", "HEBREW": "Hebr",
    "DEVANAGARI": "Deva", "BENGALI": "Beng", "GURMUKHI": "Guru", "GUJARATI": "Gujr",
    "ORIYA": "Orya", "TAMIL": "Taml", "TELUGU": "Telu", "KANNADA": "Knda", "MALAYALAM": "Mlym",
    "SINHALA": "Sinh", "THAI": "Thai", "LAO": "Laoo", "TIBETAN": "Tibt", "MYANMAR": "Mymr",
    "GEORGIAN": "Geor", "HANGUL": "Hang", "ETHIOPIC": "Ethi", "KHMER": "Khmr",
    "ARMENIAN": "Armn", "TIFINAGH": "Tfng", "CJK": "Hani", "HIRAGANA": "Jpan",
    "KATAKANA": "Jpan",
}  # fmt: skip
# When several languages share a script, the first of these the model has wins.
_PREFERRED = (
    "eng_Latn", "en", "rus_Cyrl", "ru", "arb_Arab", "ar", "zho_Hans", "zh", "hin_Deva", "hi",
    "jpn_Jpan", "ja", "kor_Hang", "ko", "ell_Grek", "el", "heb_Hebr", "he", "ben_Beng", "bn",
)  # fmt: skip


def _script(char: str) -> str | None:
    try:
        name = unicodedata.name(char)
    except ValueError:
        return None
    return _SCRIPT_OF_NAME.get(name.split(" ", 1)[0])


def dominant_script(text: str) -> str | None:
    """The script of most letters in `text` (Japanese kana outweigh shared Han)."""
    counts = Counter(s for s in map(_script, text) if s is not None)
    if counts.get("Jpan"):
        counts["Jpan"] += counts.pop("Hani", 0)
    return counts.most_common(1)[0][0] if counts else None


def _scripts_of(language: LanguageInfo) -> set[str]:
    scripts = set()
    for spelling in (language.code, *language.aliases):
        _, _, script = spelling.replace("-", "_").partition("_")
        if len(script) == 4:
            scripts.add(script)
    if scripts & {"Hans", "Hant"}:
        scripts.add("Hani")
    return scripts


def script_candidates(text: str, languages: Sequence[LanguageInfo]) -> list[str]:
    """The model codes written in `text`'s dominant script (all codes when none match)."""
    script = dominant_script(text)
    candidates = [lang.code for lang in languages if script in _scripts_of(lang)]
    return candidates or [lang.code for lang in languages]


def most_common(candidates: Sequence[str]) -> str:
    """The most widely used language among `candidates` (by a fixed list), else the first."""
    for code in _PREFERRED:
        if code in candidates:
            return code
    return candidates[0]


def detect_language(text: str, languages: Sequence[LanguageInfo]) -> str:
    """Guesses the model code of `text`'s language among `languages` by script alone."""
    return most_common(script_candidates(text, languages))
