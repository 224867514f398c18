"""Sentence segmentation that puts the text back together exactly.

`segment()` cuts a text into sentences (and sentences longer than the model's input
limit into word-boundary chunks) and keeps every piece of whitespace in between, so
that `SegmentedText.join(translations)` restores the original spacing and line breaks.
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


_MAX_PIECE_CHARS = 16  # sentencepiece's default max_sentencepiece_length


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


def _ends_sentence(before: str, after: str, gap: str) -> bool:
    if "\n" in gap:
        return True
    stripped = before.rstrip(_CLOSERS)
    if not stripped or stripped[-1] not in _FINAL:
        return False
    if after[:1].islower():
        return False
    if stripped[-1] == ".":
        word = stripped[:-1].rsplit(None, 1)[-1].lower() if stripped[:-1].strip() else ""
        if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
            return False
    return True


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
        if _ends_sentence(text[sentence_start : gap.start()], text[gap.end() : end], gap.group()):
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


def split_long(sentence: str, count_tokens: Callable[[str], int], max_tokens: int) -> SegmentedText:
    """Cuts a sentence into chunks of at most `max_tokens` tokens each.

    Words are packed greedily by their own token counts; a chunk whose real count
    still exceeds the limit (tokenizers merge across words) is halved at a word
    boundary, and a single word over the limit is cut between characters. Nothing is
    dropped: `join` of the chunks gives the sentence back.
    """
    if count_tokens(sentence) <= max_tokens:
        return SegmentedText((sentence,), ("", ""))
    chunks: list[str] = []
    gaps: list[str] = []
    for packed, gap in _pack(_words(sentence), count_tokens, max_tokens):
        fitted, inner = _fit(packed, count_tokens, max_tokens)
        chunks += fitted
        gaps += [*inner, gap]
    return SegmentedText(tuple(chunks), ("", *gaps[:-1], ""))


def _pack(
    words: list[tuple[str, str]], count_tokens: Callable[[str], int], max_tokens: int
) -> list[tuple[str, str]]:
    """Greedy packing of (word, following gap) into (chunk, following gap)."""
    packed: list[tuple[str, str]] = []
    current: list[tuple[str, str]] = []
    used = 0
    for word, gap in words:
        tokens = count_tokens(word)
        if current and used + tokens > max_tokens:
            packed.append(_glue(current))
            current, used = [], 0
        current.append((word, gap))
        used += tokens
    if current:
        packed.append(_glue(current))
    return packed


def _glue(words: list[tuple[str, str]]) -> tuple[str, str]:
    text = "".join(word + gap for word, gap in words[:-1]) + words[-1][0]
    return text, words[-1][1]


def _fit(
    chunk: str, count_tokens: Callable[[str], int], max_tokens: int
) -> tuple[list[str], list[str]]:
    """Chunks within the limit and the gaps between them."""
    if count_tokens(chunk) <= max_tokens:
        return [chunk], []
    words = _words(chunk)
    if len(words) == 1:
        pieces = _split_word(chunk, count_tokens, max_tokens)
        return pieces, [""] * (len(pieces) - 1)
    middle = len(words) // 2
    left, gap = _glue(words[:middle])
    right, _ = _glue(words[middle:])
    left_chunks, left_gaps = _fit(left, count_tokens, max_tokens)
    right_chunks, right_gaps = _fit(right, count_tokens, max_tokens)
    return left_chunks + right_chunks, [*left_gaps, gap, *right_gaps]


def _words(sentence: str) -> list[tuple[str, str]]:
    words: list[tuple[str, str]] = []
    position = 0
    for gap in _SPACE.finditer(sentence):
        words.append((sentence[position : gap.start()], gap.group()))
        position = gap.end()
    words.append((sentence[position:], ""))
    return [(w, g) for w, g in words if w]


def _split_word(word: str, count_tokens: Callable[[str], int], max_tokens: int) -> list[str]:
    pieces: list[str] = []
    rest = word
    while rest:
        # Largest prefix within the limit, by bisection on its length.
        # A piece never spans more than _MAX_PIECE_CHARS characters, so the answer lies
        # in this window: bisecting over the whole rest would be quadratic.
        low, high = 1, min(len(rest), max_tokens * _MAX_PIECE_CHARS)
        while low < high:
            middle = (low + high + 1) // 2
            if count_tokens(rest[:middle]) <= max_tokens:
                low = middle
            else:
                high = middle - 1
        pieces.append(rest[:low])
        rest = rest[low:]
    return pieces


def segment(text: str, count_tokens: Callable[[str], int], max_tokens: int) -> SegmentedText:
    """Sentences of `text`, each within `max_tokens` tokens, with exact separators."""
    outer = split_sentences(text)
    sentences: list[str] = []
    separators = [outer.separators[0]]
    for sentence, separator in zip(outer.sentences, outer.separators[1:], strict=True):
        inner = split_long(sentence, count_tokens, max_tokens)
        sentences += inner.sentences
        separators += [*inner.separators[1:-1], separator]
    return SegmentedText(tuple(sentences), tuple(separators))
