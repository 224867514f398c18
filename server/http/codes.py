"""Language codes as LibreTranslate and DeepL clients spell them, and the model's codes.

Requests: a client's code is first respelled where LibreTranslate uses codes of its own
(`zt` for Traditional Chinese, `pb` for Brazilian Portuguese), then the model's alias
table resolves it like any gRPC request (`en`, `EN-US`, `zh-Hans`, `iw`, `qaa_Latn`).

Responses: each model language gets one public spelling per API. LibreTranslate's is
the language's ISO 639-1 code (`en`), or that code with its script where two of the
model's languages share it (`zh-Hans`, `zh-Hant`), or else the model's own code
(`qaa_Latn`). DeepL's is the same, upper-cased (`EN`, `ZH-HANS`, `QAA_LATN`); as a
target, English and Portuguese are offered in DeepL's regional variants.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Sequence

from dragoman.engine.languages import LanguageTable
from dragoman.engine.types import LanguageInfo

#: LibreTranslate's own codes -> the BCP-47 spelling the alias tables know.
LIBRE_SPELLINGS: dict[str, str] = {"zt": "zh-Hant", "pb": "pt-BR"}
#: DeepL's target variants of a language, by its DeepL code.
DEEPL_TARGET_VARIANTS: dict[str, tuple[str, ...]] = {
    "EN": ("EN-GB", "EN-US"),
    "PT": ("PT-BR", "PT-PT"),
}
#: The code LibreTranslate clients send to ask for detection.
AUTO = "auto"

_ISO1 = re.compile(r"^[a-z]{2}$")
_ISO1_SCRIPT = re.compile(r"^([a-z]{2})-([A-Z][a-z]{3})$")


def respell(code: str) -> str:
    """A client's code as the model's alias table spells it (`zt` -> `zh-Hant`)."""
    stripped = code.strip()
    return LIBRE_SPELLINGS.get(stripped.lower(), stripped)


class CodeBook:
    """One model's languages under the public spellings of the compatible APIs.

    Args:
        languages: The model's languages (`TranslationEngine.list_languages`).
    """

    def __init__(self, languages: Sequence[LanguageInfo]) -> None:
        self.languages = list(languages)
        self._table = LanguageTable(self.languages)
        shared = Counter(
            match.group(1)
            for lang in self.languages
            for alias in lang.aliases
            if (match := _ISO1_SCRIPT.match(alias))
        )
        self._libre = {lang.code: _public_code(lang, shared) for lang in self.languages}

    def resolve(self, code: str) -> str | None:
        """The model code a client's code names, or None when the model has no such language."""
        return self._table.lookup(respell(code))

    def libre(self, model_code: str) -> str:
        """LibreTranslate's spelling of a model code (unknown codes pass through)."""
        return self._libre.get(model_code, model_code)

    def deepl(self, model_code: str) -> str:
        """DeepL's spelling of a model code as a source language (`EN`, `ZH-HANS`)."""
        return self.libre(model_code).upper()

    def deepl_targets(self, model_code: str) -> tuple[str, ...]:
        """DeepL's spellings of a model code as a target language (`EN-GB`, `EN-US`)."""
        code = self.deepl(model_code)
        return DEEPL_TARGET_VARIANTS.get(code, (code,))

    def name(self, model_code: str) -> str:
        """The language's display name."""
        return self._table.get(model_code).display_name


def _public_code(lang: LanguageInfo, shared: Counter[str]) -> str:
    iso1 = next((a for a in lang.aliases if _ISO1.match(a)), "")
    scripted = next((a for a in lang.aliases if _ISO1_SCRIPT.match(a)), "")
    if scripted and shared[scripted[:2]] > 1:
        return scripted
    return iso1 or scripted or lang.code


@functools.lru_cache(maxsize=32)
def _cached(languages: tuple[LanguageInfo, ...]) -> CodeBook:
    return CodeBook(languages)


def code_book(languages: Sequence[LanguageInfo]) -> CodeBook:
    """The (cached) code book of a model's languages."""
    return _cached(tuple(languages))
