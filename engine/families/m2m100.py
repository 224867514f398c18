"""M2M100: language tokens are `__en__`, the model's codes ISO 639-1 (`en`).

Display names and cross-style aliases (`eng_Latn`, `eng`) come from the NLLB table.
"""

from __future__ import annotations

import re
from functools import cache

from dragoman.engine.families import register_family
from dragoman.engine.families.base import ModelFamily
from dragoman.engine.families.nllb_languages import EXTRA_ALIASES, NLLB_LANGUAGES
from dragoman.engine.languages import flores_aliases
from dragoman.engine.types import LanguageInfo

M2M100_CODES: tuple[str, ...] = (
    "af", "am", "ar", "ast", "az", "ba", "be", "bg", "bn", "br", "bs", "ca", "ceb", "cs",
    "cy", "da", "de", "el", "en", "es", "et", "fa", "ff", "fi", "fr", "fy", "ga", "gd", "gl",
    "gu", "ha", "he", "hi", "hr", "ht", "hu", "hy", "id", "ig", "ilo", "is", "it", "ja", "jv",
    "ka", "kk", "km", "kn", "ko", "lb", "lg", "ln", "lo", "lt", "lv", "mg", "mk", "ml", "mn",
    "mr", "ms", "my", "ne", "nl", "no", "ns", "oc", "or", "pa", "pl", "ps", "pt", "ro", "ru",
    "sd", "si", "sk", "sl", "so", "sq", "sr", "ss", "su", "sv", "sw", "ta", "th", "tl", "tn",
    "tr", "uk", "ur", "uz", "vi", "wo", "xh", "yi", "yo", "zh", "zu",
)  # fmt: skip

# M2M100 codes that are not an NLLB language's ISO 639-1 code.
_NLLB_EQUIVALENT = {
    "ast": "ast_Latn", "ceb": "ceb_Latn", "ilo": "ilo_Latn", "ns": "nso_Latn",
    "no": "nob_Latn",
}  # fmt: skip
_OWN_NAMES = {"br": ("Breton", "bre_Latn"), "fy": ("Western Frisian", "fry_Latn")}
_TOKEN = re.compile(r"^__([a-z]{2,3})__$")


def _nllb_code(code: str) -> str:
    if code in _NLLB_EQUIVALENT:
        return _NLLB_EQUIVALENT[code]
    return next((c for c, (iso1, _) in NLLB_LANGUAGES.items() if iso1 == code), "")


@cache
def m2m100_languages() -> tuple[LanguageInfo, ...]:
    """M2M100's 100 languages; aliases include the NLLB spellings (`eng_Latn`)."""
    languages = []
    for code in M2M100_CODES:
        if code in _OWN_NAMES:
            name, flores = _OWN_NAMES[code]
            aliases = (flores, *flores_aliases(flores))
        else:
            flores = _nllb_code(code)
            name = NLLB_LANGUAGES[flores][1]
            aliases = (
                flores,
                *EXTRA_ALIASES.get(flores, ()),
                *flores_aliases(flores, code),
                *flores_aliases(flores, NLLB_LANGUAGES[flores][0]),
            )
        languages.append(
            LanguageInfo(code, name, tuple(a for a in dict.fromkeys(aliases) if a != code))
        )
    return tuple(languages)


@register_family
class M2M100Family(ModelFamily):
    """M2M100: source `[__en__] + pieces + [</s>]`, target prefix `[__fr__]`."""

    name = "m2m100"
    max_source_tokens = 1024

    def language_token(self, code: str) -> str:
        return f"__{code}__"

    def code_from_token(self, token: str) -> str | None:
        match = _TOKEN.match(token)
        return match.group(1) if match else None

    def builtin_languages(self) -> tuple[LanguageInfo, ...]:
        return m2m100_languages()
