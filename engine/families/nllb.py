"""NLLB-200: language tokens are FLORES-200 codes such as `eng_Latn`."""

from __future__ import annotations

import re
from functools import cache

from dragoman.engine.families import register_family
from dragoman.engine.families.base import ModelFamily
from dragoman.engine.families.nllb_languages import EXTRA_ALIASES, NLLB_LANGUAGES
from dragoman.engine.languages import flores_aliases
from dragoman.engine.types import LanguageInfo

_FLORES_CODE = re.compile(r"^[a-z]{3}_[A-Z][a-z]{3}$")


@cache
def nllb_languages() -> tuple[LanguageInfo, ...]:
    """NLLB-200's languages with their aliases; explicit aliases beat derived ones."""
    explicit = {alias for aliases in EXTRA_ALIASES.values() for alias in aliases}
    languages = []
    for code, (iso1, name) in NLLB_LANGUAGES.items():
        own = EXTRA_ALIASES.get(code, ())
        derived = [a for a in flores_aliases(code, iso1) if a not in explicit]
        languages.append(LanguageInfo(code, name, (*own, *derived)))
    return tuple(languages)


@register_family
class NllbFamily(ModelFamily):
    """NLLB-200: source `[eng_Latn] + pieces + [</s>]`, target prefix `[fra_Latn]`."""

    name = "nllb"
    max_source_tokens = 512

    def language_token(self, code: str) -> str:
        return code

    def code_from_token(self, token: str) -> str | None:
        return token if _FLORES_CODE.match(token) else None

    def builtin_languages(self) -> tuple[LanguageInfo, ...]:
        return nllb_languages()
