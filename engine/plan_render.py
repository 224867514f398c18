"""Rendering one translated sentence: its chunks placed by the aligned target words.

A sentence of one translated chunk is its detokenized hypothesis. Otherwise each
target word goes inside the tags of the source chunk it is aligned to; a fixed chunk
(placeholder, glossary term, code) comes back once, at its first aligned word (later
ones are the model's rendering of it, dropped); fixed chunks no word aligns to go
before the first word aligned to a later chunk; an inline element no word aligns to
still comes back (empty, attributes kept), so no tag is ever lost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from dragoman.engine.alignment import AlignedHypothesis, Chunk, TargetWord, align_words
from dragoman.engine.markup import Item
from dragoman.engine.tokenizer import Tokenizer

if TYPE_CHECKING:
    from dragoman.engine.plan import Sentence


def render_sentence(
    sentence: Sentence,
    hyp: AlignedHypothesis | None,
    tokenizer: Tokenizer,
    escape: Callable[[str], str],
) -> list[Item]:
    """The items of one sentence (its lead before the first), given its hypothesis
    (None: the sentence needed no model)."""
    chunks = sentence.chunks
    if hyp is None:
        placed = [
            (i, Item("", c.fixed if c.fixed is not None else escape(c.text), c.tags))
            for i, c in enumerate(chunks)
        ]
    elif sentence.is_simple():
        placed = [(0, Item("", escape(sentence.text_of(hyp.pieces, tokenizer)), chunks[0].tags))]
    else:
        placed = _aligned_items(chunks, align_words(hyp, sentence.owners, tokenizer), escape)
    items = [item for _, item in _keep_every_tag(chunks, placed)]
    if items:
        items[0] = Item(escape(sentence.lead), items[0].content, items[0].tags)
    return items


def _space_before(chunks: Sequence[Chunk], index: int) -> bool:
    return index > 0 and (chunks[index - 1].text[-1:].isspace() or chunks[index].text[:1].isspace())


def _aligned_items(
    chunks: Sequence[Chunk], words: Sequence[TargetWord], escape: Callable[[str], str]
) -> list[tuple[int, Item]]:
    aligned = {w.chunk for w in words}
    anchors = [i for i, c in enumerate(chunks) if c.fixed is not None and i not in aligned]
    next_anchor = 0
    emitted: set[int] = set()
    placed: list[tuple[int, Item]] = []

    def place_anchor(index: int) -> None:
        lead = " " if _space_before(chunks, index) else ""
        placed.append((index, Item(lead, chunks[index].fixed or "", chunks[index].tags)))

    for word in words:
        while next_anchor < len(anchors) and anchors[next_anchor] < word.chunk:
            place_anchor(anchors[next_anchor])
            next_anchor += 1
        chunk = chunks[word.chunk]
        lead = " " if word.space else ""
        if chunk.fixed is None:
            placed.append((word.chunk, Item(lead, escape(word.text), chunk.tags)))
        elif word.chunk not in emitted:
            emitted.add(word.chunk)
            placed.append((word.chunk, Item(lead, chunk.fixed, chunk.tags)))
    for index in anchors[next_anchor:]:
        place_anchor(index)
    return placed


def _keep_every_tag(
    chunks: Sequence[Chunk], placed: list[tuple[int, Item]]
) -> list[tuple[int, Item]]:
    # An element no target word was aligned to still comes back (empty, attributes
    # kept) where its source position maps to.
    present = {tag for _, item in placed for tag in item.tags}
    missing_at = [
        (index, [depth for depth, tag in enumerate(chunk.tags) if tag not in present])
        for index, chunk in enumerate(chunks)
    ]
    if not any(missing for _, missing in missing_at):
        return placed
    for index, missing in missing_at:
        missing = [d for d in missing if chunks[index].tags[d] not in present]
        if not missing:
            continue
        stack = chunks[index].tags[: missing[-1] + 1]
        position = next((p for p, (i, _) in enumerate(placed) if i > index), len(placed))
        lead = " " if _space_before(chunks, index) else ""
        placed.insert(position, (index, Item(lead, "", stack)))
        present.update(stack)
    return placed
