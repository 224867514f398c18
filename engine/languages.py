"""Language tables: a model's codes, their display names and BCP-47 aliases.

A `LanguageTable` resolves whatever a caller sends (`eng_Latn`, `en`, `EN-us`,
`zh-Hans`, `pt-BR`) to the model's own code, and says what it accepts when it cannot.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from dragoman.engine.errors import UnsupportedLanguage
from dragoman.engine.types import LanguageInfo

_MAX_LISTED = 24


def _key(code: str) -> str:
    return code.strip().replace("_", "-").lower()


def _droppable(subtag: str) -> bool:
    """Region (`BR`, `419`) and variant (`valencia`) subtags may be dropped; scripts not."""
    region = (len(subtag) == 2 and subtag.isalpha()) or (len(subtag) == 3 and subtag.isdigit())
    return region or 5 <= len(subtag) <= 8


def flores_aliases(code: str, iso1: str = "") -> list[str]:
    """BCP-47 style aliases of a FLORES-200 code such as `eng_Latn`.

    Args:
        code: `<ISO 639-3>_<ISO 15924 script>`.
        iso1: The language's ISO 639-1 code, or "" when it has none.

    Returns:
        `[iso1, iso1-Script, iso3, iso3-Script]`, without the empty ones.
    """
    iso3, _, script = code.partition("_")
    aliases = []
    if iso1:
        aliases += [iso1, f"{iso1}-{script}"]
    aliases += [iso3, f"{iso3}-{script}"]
    return aliases


class LanguageTable:
    """The languages of one model and every spelling that names each of them.

    When two languages claim the same alias (`zh` for both Chinese scripts), the
    first one listed keeps it and the other does not advertise it.
    """

    def __init__(self, languages: Iterable[LanguageInfo]) -> None:
        self._by_key: dict[str, str] = {}
        kept: list[LanguageInfo] = []
        for lang in languages:
            if _key(lang.code) in self._by_key:
                continue
            self._by_key[_key(lang.code)] = lang.code
            aliases = []
            for alias in lang.aliases:
                if _key(alias) not in self._by_key:
                    self._by_key[_key(alias)] = lang.code
                    aliases.append(alias)
            kept.append(LanguageInfo(lang.code, lang.display_name, tuple(aliases)))
        self._languages = {lang.code: lang for lang in kept}

    def __len__(self) -> int:
        return len(self._languages)

    def __contains__(self, code: object) -> bool:
        return code in self._languages

    @property
    def codes(self) -> tuple[str, ...]:
        """The model's language codes, sorted."""
        return tuple(sorted(self._languages))

    @property
    def languages(self) -> list[LanguageInfo]:
        """Every language, sorted by code."""
        return [self._languages[code] for code in self.codes]

    def get(self, code: str) -> LanguageInfo:
        """The entry of model code `code` (as returned by `resolve`)."""
        return self._languages[code]

    def lookup(self, code: str) -> str | None:
        """Resolves a code or alias to the model's code; None when unknown.

        Region and variant subtags are dropped one at a time (`pt-BR` -> `pt`), but a
        script subtag never is: `sr-Latn` does not silently become Cyrillic Serbian, and
        `eng_Ltn` is a typo, not English.
        """
        parts = _key(code).split("-")
        while parts and parts[0]:
            found = self._by_key.get("-".join(parts))
            if found is not None:
                return found
            if len(parts) == 1 or not _droppable(parts[-1]):
                return None
            parts.pop()
        return None

    def resolve(self, code: str, *, role: str = "target") -> str:
        """Like `lookup`, but raises when the code is unknown.

        Args:
            code: What the caller sent.
            role: "source" or "target", for the message.

        Raises:
            UnsupportedLanguage: With the accepted codes (or the closest ones) in its message.
        """
        found = self.lookup(code)
        if found is not None:
            return found
        if not code.strip():
            raise UnsupportedLanguage(f"the {role} language code is required; {self._choices()}")
        raise UnsupportedLanguage(f"unsupported {role} language {code!r}; {self._choices(code)}")

    def _choices(self, near: str = "") -> str:
        codes: Sequence[str] = self.codes
        if len(codes) <= _MAX_LISTED:
            return "supported codes are: " + ", ".join(codes)
        spellings = sorted({*self._by_key, *map(_key, codes)})
        close = difflib.get_close_matches(_key(near), spellings, n=5, cutoff=0.5) if near else []
        hint = f"closest matches: {', '.join(close)}; " if close else ""
        return (
            f"{hint}this model has {len(codes)} languages (ListLanguages lists them), "
            f"e.g. {', '.join(codes[:8])}"
        )
