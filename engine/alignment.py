"""Word alignment from CTranslate2 attention, and the pieces it works on.

A source sentence is given as *chunks*: runs of text that are each either translated
or fixed (a placeholder, a glossary term, a code span) and that each sit inside one
stack of inline markup tags. Each chunk is tokenized on its own, so every source
piece knows its chunk. When a batch is decoded with `return_attention=True`, every
target word is aligned to the source piece it attends to most (summed over the
word's pieces, `word_sources`), the way Bergamot places HTML tags, and so inherits
that piece's chunk. Only those per-word indices are kept (and cached), not the
attention matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    """One decoded hypothesis, its words' alignment to the source, and its score.

    Attributes:
        pieces: Target pieces, target prefix and special tokens stripped.
        sources: For each word of `pieces` (see `split_words`), the index of the source
            piece it attends to most. Empty when the model returned no attention;
            alignment then falls back to position.
        score: The hypothesis score (average log-probability), when asked for.
    """

    pieces: tuple[str, ...]
    sources: tuple[int, ...] = ()
    score: float | None = None

    @classmethod
    def from_attention(
        cls,
        pieces: Sequence[str],
        attention: Sequence[Sequence[float]],
        score: float | None = None,
    ) -> AlignedHypothesis:
        """A hypothesis aligned by `attention` (one row per piece, one column per source piece)."""
        return cls(tuple(pieces), word_sources(pieces, attention), score)


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


def word_sources(pieces: Sequence[str], attention: Sequence[Sequence[float]]) -> tuple[int, ...]:
    """Per word of `pieces`, the source piece with the most attention summed over the
    word's pieces (as Bergamot places tags). Empty when rows are missing."""
    if not attention or len(attention) < len(pieces):
        return ()
    sources = []
    for rows in split_words(pieces):
        width = min(len(attention[r]) for r in rows)
        if width <= 0:
            return ()
        totals = [sum(attention[r][c] for r in rows) for c in range(width)]
        sources.append(max(range(width), key=totals.__getitem__))
    return tuple(sources)


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
    num_source = len(owners)
    for index, rows in enumerate(split_words(hyp.pieces)):
        if index < len(hyp.sources):
            source = min(hyp.sources[index], num_source - 1)
        else:
            # No attention: proportional position (keeps order, better than nothing).
            source = min(num_source - 1, rows[0] * num_source // max(len(hyp.pieces), 1))
        word_pieces = [hyp.pieces[r] for r in rows]
        text = tokenizer.decode(word_pieces).strip()
        if not text:
            continue
        space = bool(words) and word_pieces[0].startswith(WORD_START)
        words.append(TargetWord(text, space, owners[source]))
    return words
