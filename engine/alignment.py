"""Word alignment from CTranslate2 attention, and the pieces it works on.

A source sentence is given as *chunks*: runs of text that are each either translated
or fixed (a placeholder, a glossary term, a code span) and that each sit inside one
stack of inline markup tags. Each chunk is tokenized on its own, so every source
piece knows its chunk. After decoding with `return_attention=True`, every target
word is aligned to the source piece it attends to most (summed over the word's
pieces), the way Bergamot places HTML tags, and so inherits that piece's chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dragoman.engine.tokenizer import Tokenizer

#: The sentencepiece word-start marker.
WORD_START = "\u2581"


@dataclass(frozen=True)
class Chunk:
    """A run of source text with uniform handling.

    Attributes:
        text: The run's plain text (may be empty for a zero-width anchor such as `<br>`).
        fixed: When set, the exact output for this run (already in the output's format:
            escaped for markup); the run is never translated. None: translate it.
        tags: Ids of the inline markup elements open around the run, outermost first.
    """

    text: str
    fixed: str | None = None
    tags: tuple[int, ...] = ()


@dataclass(frozen=True)
class AlignedHypothesis:
    """One decoded hypothesis with its attention over the source pieces.

    Attributes:
        pieces: Target pieces, target prefix and special tokens stripped.
        attention: One row per target piece, one column per source piece (the
            source language token and `</s>` columns removed). May be empty when
            the model returned no attention; alignment then falls back to position.
        score: The hypothesis score (average log-probability), when asked for.
    """

    pieces: tuple[str, ...]
    attention: tuple[tuple[float, ...], ...] = ()
    score: float | None = None


#: Decodes a batch of source piece lists; returns the n-best hypotheses of each,
#: with attention. The engine provides it (language tokens, batching, options).
TranslatePieces = Callable[[Sequence[Sequence[str]]], list[list[AlignedHypothesis]]]


@dataclass(frozen=True)
class TargetWord:
    """A word of a hypothesis and the source chunk it is aligned to.

    Attributes:
        text: The word's detokenized text.
        space: Whether a space precedes it in the target.
        chunk: Index of the aligned source chunk.
    """

    text: str
    space: bool
    chunk: int


def encode_chunks(tokenizer: Tokenizer, texts: Sequence[str]) -> tuple[list[str], list[int]]:
    """Tokenizes each chunk on its own.

    Returns:
        The pieces of the sentence and, per piece, the index of its chunk. Blank
        chunks have no pieces.
    """
    pieces: list[str] = []
    owners: list[int] = []
    for index, text in enumerate(texts):
        if not text.strip():
            continue
        chunk_pieces = tokenizer.encode(text.strip())
        pieces += chunk_pieces
        owners += [index] * len(chunk_pieces)
    return pieces, owners


def split_words(pieces: Sequence[str]) -> list[list[int]]:
    """Groups target piece indices into words (a word starts at a `▁` piece)."""
    words: list[list[int]] = []
    for index, piece in enumerate(pieces):
        if not words or piece.startswith(WORD_START):
            words.append([index])
        else:
            words[-1].append(index)
    return words


def _aligned_source(
    rows: Sequence[int], hyp: AlignedHypothesis, num_source: int, num_target: int
) -> int:
    if hyp.attention and len(hyp.attention) >= num_target:
        width = min(len(hyp.attention[r]) for r in rows)
        width = min(width, num_source)
        if width > 0:
            totals = [sum(hyp.attention[r][c] for r in rows) for c in range(width)]
            return max(range(width), key=totals.__getitem__)
    # No attention: proportional position (keeps order, better than nothing).
    return min(num_source - 1, rows[0] * num_source // max(num_target, 1))


def align_words(
    hyp: AlignedHypothesis, owners: Sequence[int], tokenizer: Tokenizer
) -> list[TargetWord]:
    """Splits a hypothesis into words, each aligned to a source chunk.

    Args:
        hyp: The decoded hypothesis.
        owners: Chunk index of every source piece (from `encode_chunks`).
        tokenizer: Detokenizes each word's pieces.
    """
    words: list[TargetWord] = []
    if not owners:
        return words
    for rows in split_words(hyp.pieces):
        source = _aligned_source(rows, hyp, len(owners), len(hyp.pieces))
        word_pieces = [hyp.pieces[r] for r in rows]
        text = tokenizer.decode(word_pieces).strip()
        if not text:
            continue
        space = bool(words) and word_pieces[0].startswith(WORD_START)
        words.append(TargetWord(text, space, owners[source]))
    return words
