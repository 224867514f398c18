"""Sentence segmentation that puts the text back together exactly.

`split_sentences()` cuts a text into sentences and keeps every piece of whitespace in
between, so that `SegmentedText.join(translations)` restores the original spacing and
line breaks. `fit_ranges()` cuts a sentence that is too long for the model into pieces
within a token limit, at the strongest boundary available: sentence ends the strict
splitter leaves alone (a lowercase word after the full stop), then clause boundaries,
then any space, then the edges of text that must stay whole, then characters. Every
function here runs in time linear in the text (times the number of boundary levels).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_SPACE = re.compile(r"\s+")
_FINAL = ".!?…。！？‼⁇⁈⁉"  # noqa: RUF001
_CLOSERS = "\"'”’»)]}›"  # noqa: RUF001
# Terminators that end a sentence without any following space (CJK full stops).
_CJK_BOUNDARY = re.compile(r"(?<=[。！？])(?=[^\s。！？”’」』）])")  # noqa: RUF001
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "cf",
        "no",
        "fig",
        "vol",
        "approx",
        "inc",
        "ltd",
        "co",
        "dept",
    ]
)
# Clause boundaries: a comma, semicolon or colon before a space, or a dash between spaces.
_CLAUSE = re.compile(r"(?<=[,;:，；：、])\s+|\s+[-–—]+(?=\s)")  # noqa: RUF001


@dataclass(frozen=True)
class SegmentedText:
    """Sentences of a text and the exact text around them.

    Attributes:
        sentences: The pieces to translate, without surrounding whitespace.
        separators: `len(sentences) + 1` strings: leading whitespace, what lies between
            consecutive sentences, trailing whitespace.
    """

    sentences: tuple[str, ...]
    separators: tuple[str, ...]

    def join(self, translated: Sequence[str]) -> str:
        """Interleaves translated sentences with the original separators."""
        if len(translated) != len(self.sentences):
            raise ValueError(f"expected {len(self.sentences)} sentences, got {len(translated)}")
        out = [self.separators[0]]
        for sentence, separator in zip(translated, self.separators[1:], strict=True):
            out += [sentence, separator]
        return "".join(out)


def _last_word(before: str) -> str:
    """The word before the final character of `before`, lowercased."""
    head = before[:-1]
    return head.rsplit(None, 1)[-1].lower() if head.strip() else ""


def _is_abbreviation(before: str) -> bool:
    """Whether the full stop ending `before` closes an abbreviation or an initial."""
    word = _last_word(before)
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _ends_sentence(before: str, after: str, gap: str) -> bool:
    if "\n" in gap:
        return True
    stripped = before.rstrip(_CLOSERS)
    if not stripped or stripped[-1] not in _FINAL:
        return False
    if after[:1].islower():
        return False
    return not (stripped[-1] == "." and _is_abbreviation(stripped))


def split_sentences(text: str) -> SegmentedText:
    """Splits `text` at sentence ends and line breaks, keeping all whitespace.

    Whitespace that holds a line break always separates; other whitespace separates
    after `.`, `!`, `?` (closing quotes allowed) unless a lowercase word follows or the
    dot ends a known abbreviation or an initial. CJK full stops separate without a space.
    """
    core = text.strip()
    if not core:
        return SegmentedText((), (text,))
    start = len(text) - len(text.lstrip())
    end = start + len(core)
    sentences: list[str] = []
    separators = [text[:start]]
    sentence_start = start
    for gap in _SPACE.finditer(text, start, end):
        # Only the last word before the gap decides: look at a bounded window, so a
        # sentence of n words costs O(n), not O(n^2).
        before = text[max(sentence_start, gap.start() - 64) : gap.start()]
        if _ends_sentence(before, text[gap.end() : gap.end() + 1], gap.group()):
            sentences.append(text[sentence_start : gap.start()])
            separators.append(gap.group())
            sentence_start = gap.end()
    sentences.append(text[sentence_start:end])
    separators.append(text[end:])
    return _split_cjk(SegmentedText(tuple(sentences), tuple(separators)))


def _split_cjk(segmented: SegmentedText) -> SegmentedText:
    sentences: list[str] = []
    separators = [segmented.separators[0]]
    for sentence, separator in zip(segmented.sentences, segmented.separators[1:], strict=True):
        parts = _CJK_BOUNDARY.split(sentence)
        sentences += parts
        separators += [""] * (len(parts) - 1) + [separator]
    return SegmentedText(tuple(sentences), tuple(separators))


def sentence_ranges(text: str) -> list[tuple[int, int]]:
    """`split_sentences` as (start, end) character ranges of `text`."""
    segmented = split_sentences(text)
    ranges = []
    position = len(segmented.separators[0])
    for sentence, separator in zip(segmented.sentences, segmented.separators[1:], strict=True):
        ranges.append((position, position + len(sentence)))
        position += len(sentence) + len(separator)
    return ranges


# --- fitting long sentences into the model's input ------------------------------------

#: A cut between two pieces of a range: the gap [start, end) between them (may be empty).
Cut = tuple[int, int]
#: Finds the cuts of one boundary level in text[start:end].
Level = Callable[[str, int, int], list[Cut]]
#: Number of model tokens of text[start:end].
CountTokens = Callable[[int, int], int]


def weak_sentence_ends(text: str, start: int, end: int) -> list[Cut]:
    """Sentence ends that `split_sentences` keeps together because a lowercase word follows
    (run-on or lowercase text: chat, speech recognition); abbreviations still hold."""
    cuts = []
    for gap in _SPACE.finditer(text, start, end):
        before = text[max(start, gap.start() - 64) : gap.start()].rstrip(_CLOSERS)
        if not before or before[-1] not in _FINAL:
            continue
        # A dotted word ("p.m.", "u.s.") is an abbreviation here too.
        if before[-1] == "." and (_is_abbreviation(before) or "." in _last_word(before)):
            continue
        cuts.append(gap.span())
    return cuts


def clause_boundaries(text: str, start: int, end: int) -> list[Cut]:
    """After a comma, semicolon or colon, or around a spaced dash."""
    return [gap.span() for gap in _CLAUSE.finditer(text, start, end)]


def word_boundaries(text: str, start: int, end: int) -> list[Cut]:
    """Every run of whitespace."""
    return [gap.span() for gap in _SPACE.finditer(text, start, end)]


def character_cuts(width: int) -> Level:
    """Cuts every `width` characters: the last resort for a word longer than the limit."""

    def cuts(text: str, start: int, end: int) -> list[Cut]:
        return [(p, p) for p in range(start + width, end, width)]

    return cuts


@dataclass(frozen=True)
class Stage:
    """Boundary levels, strongest first, used to bring ranges within `limit` tokens.

    Attributes:
        limit: Most tokens per range.
        levels: Where ranges may be cut, strongest first.
        pack: Pack consecutive pieces up to the limit (word runs); False cuts a range
            over the limit at every cut of the level (sentences stay apart).
    """

    limit: int
    levels: tuple[Level, ...]
    pack: bool = True


def fit_ranges(
    text: str,
    start: int,
    end: int,
    count: CountTokens,
    stages: Sequence[Stage],
    allowed: Callable[[Cut], bool] = lambda cut: True,
) -> list[tuple[int, int]]:
    """Cuts text[start:end] into ranges of at most each stage's limit, nothing dropped.

    Each stage splits the ranges still over its limit at its levels' cuts, strongest
    level first, packing consecutive pieces greedily up to the limit. A range no
    level can cut stays whole (the caller decides what to do with it).

    Args:
        text: The text.
        start, end: The range to fit (no surrounding whitespace).
        count: Token count of a range.
        stages: Limits and boundary levels, applied in order.
        allowed: Whether a cut may be used (e.g. not inside a placeholder).

    Returns:
        Sorted, non-overlapping ranges without surrounding whitespace; the text
        between consecutive ranges is whitespace or empty.
    """
    ranges = [(start, end)]
    for stage in stages:
        fitted: list[tuple[int, int]] = []
        for a, b in ranges:
            fitted += _fit(text, a, b, count, stage, 0, allowed)
        ranges = fitted
    return ranges


def _fit(
    text: str,
    start: int,
    end: int,
    count: CountTokens,
    stage: Stage,
    level: int,
    allowed: Callable[[Cut], bool],
) -> list[tuple[int, int]]:
    if level >= len(stage.levels) or count(start, end) <= stage.limit:
        return [(start, end)]
    cuts = [c for c in stage.levels[level](text, start, end) if allowed(c)]
    parts = _parts(text, start, end, cuts)
    if len(parts) < 2:
        return _fit(text, start, end, count, stage, level + 1, allowed)
    groups = (
        _pack([count(a, b) for a, b in parts], stage.limit)
        if stage.pack
        else [[i] for i in range(len(parts))]
    )
    out: list[tuple[int, int]] = []
    for group in groups:
        out += _fit_group(text, parts[group[0] : group[-1] + 1], count, stage, level, allowed)
    return out


def _fit_group(
    text: str,
    parts: list[tuple[int, int]],
    count: CountTokens,
    stage: Stage,
    level: int,
    allowed: Callable[[Cut], bool],
) -> list[tuple[int, int]]:
    """A packed run of pieces: whole when it fits (tokenizers may merge across a cut,
    so it is counted again), else halved; a single piece goes to the next level."""
    start, end = parts[0][0], parts[-1][1]
    if len(parts) == 1:
        return _fit(text, start, end, count, stage, level + 1, allowed)
    if count(start, end) <= stage.limit:
        return [(start, end)]
    middle = len(parts) // 2
    return _fit_group(text, parts[:middle], count, stage, level, allowed) + _fit_group(
        text, parts[middle:], count, stage, level, allowed
    )


def _parts(text: str, start: int, end: int, cuts: list[Cut]) -> list[tuple[int, int]]:
    """The non-blank pieces of text[start:end] between the cuts, stripped."""
    parts = []
    position = start
    for cut_start, cut_end in [*sorted(cuts), (end, end)]:
        piece = text[position:cut_start]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            parts.append((position + lead, position + lead + len(piece.strip())))
        position = max(position, cut_end)
    return parts


def _pack(sizes: list[int], limit: int) -> list[list[int]]:
    """Greedy packing of consecutive piece indices into groups within `limit`."""
    groups: list[list[int]] = []
    used = 0
    for index, size in enumerate(sizes):
        if groups and used + size <= limit:
            groups[-1].append(index)
            used += size
        else:
            groups.append([index])
            used = size
    return groups
