"""Glossaries and do-not-translate terms: source terms with a required target text.

A `Glossary` compiles its entries once into a first-word index, so matching a text
against 10 000 entries costs one dictionary look-up per word. Matches are whole
words (the characters around a match are not letters or digits, except in scripts
written without spaces), the longest entry wins, and matches never overlap.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from dragoman.engine.errors import InvalidOption
from dragoman.engine.spans import Span

#: Most entries one glossary (or one request's inline entries) may hold.
MAX_GLOSSARY_ENTRIES = 10_000
#: Longest source or target term, in characters.
MAX_TERM_CHARS = 256

_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class GlossaryEntry:
    """One source term and the text it must become in the translation."""

    source: str
    target: str


@dataclass(frozen=True)
class GlossaryMatch:
    """Where an entry occurs in a text.

    Attributes:
        start: First character of the occurrence.
        end: One past its last character.
        entry: The entry that matched.
    """

    start: int
    end: int
    entry: GlossaryEntry

    def as_span(self) -> Span:
        """The occurrence as a span that must become the entry's target text."""
        return Span(self.start, self.end, "glossary", self.entry.target)


def _unspaced(char: str) -> bool:
    # Scripts written without spaces between words: a term may start anywhere.
    name = unicodedata.name(char, "")
    return name.startswith(("CJK", "HIRAGANA", "KATAKANA", "THAI", "LAO", "KHMER", "MYANMAR"))


def _starts(word: str, offset: int) -> list[tuple[int, str]]:
    # Where a term may start inside a word, with the index key to look up: the word
    # itself, or every character of a run written without spaces.
    if not any(_unspaced(c) for c in word):
        return [(offset, word)]
    lead = 0
    while lead < len(word) and not _unspaced(word[lead]):
        lead += 1
    starts = [(offset, word[:lead])] if lead else []
    return starts + [(offset + i, c) for i, c in enumerate(word) if _unspaced(c)]


def _is_boundary(text: str, index: int) -> bool:
    # Whether a term may start or end at `index` without cutting a word in two.
    if index <= 0 or index >= len(text):
        return True
    before, after = text[index - 1], text[index]
    if not (before.isalnum() and after.isalnum()):
        return True
    return _unspaced(before) or _unspaced(after)


@dataclass(frozen=True)
class Glossary:
    """A validated, compiled set of glossary entries.

    Attributes:
        entries: The entries, in the order given.
        ignore_case: Match source terms regardless of case.
        name: The stored glossary's name ("" for inline entries).
    """

    entries: tuple[GlossaryEntry, ...]
    ignore_case: bool = False
    name: str = ""
    # First word -> (term lengths, longest first; normalized source -> entry).
    _index: dict[str, tuple[list[int], dict[str, GlossaryEntry]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        validate_entries(self.entries, self.name or "glossary")
        index: dict[str, tuple[list[int], dict[str, GlossaryEntry]]] = {}
        for entry in self.entries:
            first = _WORD.search(entry.source)
            word = first.group() if first else entry.source.strip()
            key = word[0] if _unspaced(word[0]) else word
            lengths, terms = index.setdefault(self._norm(key), ([], {}))
            terms.setdefault(self._norm(entry.source), entry)
            lengths.append(len(entry.source))
        for lengths, _ in index.values():
            lengths[:] = sorted(set(lengths), reverse=True)
        object.__setattr__(self, "_index", index)

    def _norm(self, text: str) -> str:
        return text.lower() if self.ignore_case else text

    def digest(self) -> str:
        """A stable hash of the entries and flags, for cache keys."""
        payload = json.dumps(
            [self.ignore_case, [(e.source, e.target) for e in self.entries]], ensure_ascii=False
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:32]

    def approx_bytes(self) -> int:
        """Rough memory held by the compiled glossary (entries, terms and index)."""
        terms = sum(len(e.source) + len(e.target) for e in self.entries)
        return 400 * len(self.entries) + 2 * terms + 1024

    def find(self, text: str, taken: Sequence[Span] = ()) -> list[GlossaryMatch]:
        """Finds the entries' occurrences in `text`, longest first, never overlapping.

        Linear in the text: one index look-up per word, then at most one dictionary
        look-up per distinct term length among the entries starting with that word.

        Args:
            text: The source text.
            taken: Non-overlapping spans already claimed (protected placeholders);
                matches overlapping them are skipped.
        """
        claimed = _Claimed(taken)
        matches: list[GlossaryMatch] = []
        position = 0
        for word in _WORD.finditer(text):
            for start, key in _starts(word.group(), word.start()):
                if start < position:
                    continue
                match = self._match_at(text, start, key)
                if match is None or claimed.overlaps(match.start, match.end):
                    continue
                matches.append(match)
                position = match.end
        return matches

    def _match_at(self, text: str, start: int, word: str) -> GlossaryMatch | None:
        found = self._index.get(self._norm(word))
        if found is None:
            return None
        lengths, terms = found
        for length in lengths:
            end = start + length
            entry = terms.get(self._norm(text[start:end]))
            if entry is not None and _is_boundary(text, start) and _is_boundary(text, end):
                return GlossaryMatch(start, end, entry)
        return None


class _Claimed:
    """Non-overlapping claimed spans, for overlap tests in O(log n)."""

    def __init__(self, spans: Sequence[Span]) -> None:
        ordered = sorted(spans)
        self._starts = [s.start for s in ordered]
        self._ends = [s.end for s in ordered]

    def overlaps(self, start: int, end: int) -> bool:
        # The last span starting before `end` is the only one that can reach `start`
        # (spans do not overlap, so their ends grow with their starts).
        index = bisect.bisect_left(self._starts, end) - 1
        return index >= 0 and self._ends[index] > start


def validate_entries(entries: Sequence[GlossaryEntry], what: str = "glossary") -> None:
    """Checks entry count, empty and overlong terms, and conflicting duplicates.

    Raises:
        InvalidOption: Naming the first bad entry and what to change.
    """
    if len(entries) > MAX_GLOSSARY_ENTRIES:
        raise InvalidOption(
            f"{what} has {len(entries)} entries; at most {MAX_GLOSSARY_ENTRIES} are allowed"
        )
    seen: dict[str, str] = {}
    for number, entry in enumerate(entries):
        for side, term in (("source", entry.source), ("target", entry.target)):
            if not term.strip():
                raise InvalidOption(f"{what} entry {number} has an empty {side} term")
            if len(term) > MAX_TERM_CHARS:
                raise InvalidOption(
                    f"{what} entry {number} has a {side} term of {len(term)} characters; "
                    f"at most {MAX_TERM_CHARS} are allowed"
                )
        if entry.source != entry.source.strip():
            raise InvalidOption(
                f"{what} entry {number} source term {entry.source!r} has surrounding spaces"
            )
        previous = seen.setdefault(entry.source, entry.target)
        if previous != entry.target:
            raise InvalidOption(
                f"{what} has two entries for {entry.source!r} ({previous!r} and "
                f"{entry.target!r}); keep one"
            )


def do_not_translate(terms: Sequence[str], ignore_case: bool = False) -> Glossary:
    """A glossary that keeps each term as it is (`target` = the source's own text);
    repeated terms count once.

    Raises:
        InvalidOption: Too many terms, or an empty term or one with surrounding spaces.
    """
    if len(terms) > MAX_GLOSSARY_ENTRIES:
        raise InvalidOption(
            f"do_not_translate has {len(terms)} terms; at most {MAX_GLOSSARY_ENTRIES} are allowed"
        )
    for index, term in enumerate(terms):
        if not term.strip() or term != term.strip():
            raise InvalidOption(
                f"do_not_translate[{index}] is {term!r}: terms must be non-empty and have no "
                "surrounding spaces"
            )
    entries = tuple(GlossaryEntry(t, t) for t in dict.fromkeys(terms))
    return Glossary(entries, ignore_case=ignore_case, name="do_not_translate")


def find_terms(
    text: str,
    glossaries: Sequence[Glossary],
    keep_original: Sequence[bool],
    taken: Sequence[Span] = (),
) -> tuple[list[Span], list[GlossaryMatch]]:
    """Finds terms of several glossaries; earlier glossaries win overlaps.

    Args:
        text: The source text.
        glossaries: Glossaries in priority order.
        keep_original: Per glossary, whether a match keeps the source's own bytes
            (do-not-translate, case-insensitive matches keep the source's casing).
        taken: Spans already claimed.

    Returns:
        The spans to force (sorted) and the glossary matches among them.
    """
    spans = sorted(taken)
    forced: list[Span] = []
    applied: list[GlossaryMatch] = []
    for glossary, keep in zip(glossaries, keep_original, strict=True):
        found = []
        for match in glossary.find(text, spans):
            replacement = text[match.start : match.end] if keep else match.entry.target
            found.append(Span(match.start, match.end, "keep" if keep else "glossary", replacement))
            if not keep:
                applied.append(match)
        forced += found
        spans = list(heapq.merge(spans, found))
    return sorted(forced), applied
