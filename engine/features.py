"""What a request asks for beyond plain translation, and the glossaries it compiles to.

`TextFeatures` is validated at the edge. `glossaries_of` turns it into the compiled
glossaries the text preparation (`dragoman.engine.plan`) matches, in priority order:
do-not-translate terms, inline entries, the stored glossary. Compiled inline
glossaries are memoized in a cache bounded by bytes, not by count, so a few requests
with 10,000-entry glossaries cannot pin unbounded memory.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass

from cachetools import LRUCache
from dragoman.engine.errors import InvalidOption
from dragoman.engine.terminology import Glossary, GlossaryEntry, do_not_translate

#: mime_type -> whether the text is markup. "" means text/plain.
MIME_TYPES: dict[str, bool] = {
    "": False,
    "text/plain": False,
    "text/html": True,
    "application/xhtml+xml": True,
    "text/xml": True,
    "application/xml": True,
}

#: Memory the memo of compiled inline glossaries and do-not-translate lists may hold.
GLOSSARY_MEMO_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class TextFeatures:
    """What a request asks for beyond plain translation (validated at the edge).

    Attributes:
        glossary_entries: Inline glossary: source term -> required target text.
        glossary_ignore_case: Match the inline glossary's source terms in any case.
        glossary_name: A stored glossary to apply as well ("" = none).
        do_not_translate: Terms kept exactly as they are in the source.
        protect_placeholders: Keep placeholders, URLs, e-mail addresses and code
            spans byte-identical (the default).
        mime_type: "text/plain" (or "") or a markup type from `MIME_TYPES`.
    """

    glossary_entries: tuple[GlossaryEntry, ...] = ()
    glossary_ignore_case: bool = False
    glossary_name: str = ""
    do_not_translate: tuple[str, ...] = ()
    protect_placeholders: bool = True
    mime_type: str = "text/plain"

    def __post_init__(self) -> None:
        if self.mime_type not in MIME_TYPES:
            raise InvalidOption(
                f"unsupported mime_type {self.mime_type!r}; supported types are: "
                + ", ".join(t for t in MIME_TYPES if t)
            )

    @property
    def is_markup(self) -> bool:
        """Whether the text is HTML/XML."""
        return MIME_TYPES[self.mime_type]


DEFAULT_FEATURES = TextFeatures()


class GlossaryMemo:
    """Compiled glossaries by their entries, LRU, bounded by their approximate size."""

    def __init__(self, max_bytes: int = GLOSSARY_MEMO_BYTES) -> None:
        """An empty memo holding at most `max_bytes` of compiled glossaries."""
        self._lock = threading.Lock()
        self._data: LRUCache[tuple[object, ...], Glossary] = LRUCache(
            maxsize=max_bytes, getsizeof=lambda glossary: glossary.approx_bytes()
        )

    def get(self, key: tuple[object, ...], build: Callable[[], Glossary]) -> Glossary:
        """The glossary memoized under `key`, built (outside the lock) on a miss."""
        with self._lock:
            found = self._data.get(key)
        if found is not None:
            return found
        glossary = build()
        # A glossary larger than the whole memo (ValueError) is used once, not kept.
        with self._lock, contextlib.suppress(ValueError):
            self._data[key] = glossary
        return glossary

    @property
    def bytes(self) -> int:
        """Approximate size of what the memo holds now."""
        with self._lock:
            return int(self._data.currsize)


_MEMO = GlossaryMemo()


def _inline(features: TextFeatures) -> Glossary:
    entries, ignore_case = features.glossary_entries, features.glossary_ignore_case
    return _MEMO.get(("inline", ignore_case, entries), lambda: Glossary(entries, ignore_case))


def _do_not_translate(terms: tuple[str, ...]) -> Glossary:
    return _MEMO.get(("keep", terms), lambda: do_not_translate(terms))


def glossaries_of(
    features: TextFeatures, lookup: Callable[[str], Glossary] | None
) -> tuple[list[Glossary], list[bool]]:
    """The request's glossaries in priority order, and per glossary whether a match keeps
    the source's own text (do-not-translate) instead of a target term.

    Raises:
        InvalidOption: A stored glossary is named but the server has no glossary store.
    """
    glossaries: list[Glossary] = []
    keep: list[bool] = []
    if features.do_not_translate:
        glossaries.append(_do_not_translate(features.do_not_translate))
        keep.append(True)
    if features.glossary_entries:
        glossaries.append(_inline(features))
        keep.append(False)
    if features.glossary_name:
        if lookup is None:
            raise InvalidOption(
                "this server has no glossary store (--glossary-dir); send glossary entries"
            )
        glossaries.append(lookup(features.glossary_name))
        keep.append(False)
    return glossaries, keep
