"""Protect, parse and segment one text; put its translation back together.

`TextPreparer.prepare` turns a text and its request's `TextFeatures` into a
`TextPlan`: verbatim markup, and sentences made of *chunks* (markup units,
placeholders, glossary and do-not-translate terms), each sentence tokenized and
within the model's input limit. Every text takes this path, plain or not; a plain
sentence is one chunk. The engine decodes `plan.todo` (the sentences that need the
model) through the batcher, asking for attention only where a sentence has more than
one chunk, and `plan.render` restores the text: fixed chunks come back exactly once,
byte-identical (glossary terms as their required target), inline tags around the
aligned words, the original whitespace between sentences.

Preparation is linear in the text's size and checks the caller's deadline as it goes.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dragoman.engine.alignment import AlignedHypothesis, Chunk, encode_chunks
from dragoman.engine.errors import InputTooLong
from dragoman.engine.features import TextFeatures, glossaries_of
from dragoman.engine.markup import InlineTag, escape_text, parse_markup, render_items
from dragoman.engine.plan_render import render_sentence
from dragoman.engine.segmenter import (
    Cut,
    Stage,
    character_cuts,
    clause_boundaries,
    fit_ranges,
    sentence_ranges,
    weak_sentence_ends,
    word_boundaries,
)
from dragoman.engine.spans import Span, find_protected
from dragoman.engine.terminology import Glossary, GlossaryEntry, find_terms
from dragoman.engine.tokenizer import Tokenizer

Escape = Callable[[str], str]


@dataclass
class Sentence:
    """One unit the model translates (or that needs no model: only fixed chunks).

    Attributes:
        chunks: Its chunks, in order.
        lead: The source text before it (whitespace between sentences).
        pieces: Its source pieces, each chunk tokenized on its own.
        owners: Per piece, the index of its chunk.
        recased: It starts with an all-lowercase word (chat, speech recognition, a
            run-on text cut apart): the model sees it capitalized, as sentences start
            in its training data, and the translation's first letter is lowered back.
    """

    chunks: list[Chunk]
    lead: str
    pieces: list[str] = field(default_factory=list)
    owners: list[int] = field(default_factory=list)
    recased: bool = False

    def is_simple(self) -> bool:
        """One translated chunk: its translation is the decoded hypothesis."""
        return len(self.chunks) == 1 and self.chunks[0].fixed is None

    def text_of(self, pieces: Sequence[str], tokenizer: Tokenizer) -> str:
        """The translation of a simple sentence from its target pieces (a partial
        hypothesis too), recased like the source."""
        text = tokenizer.decode(pieces)
        return text[:1].lower() + text[1:] if self.recased else text

    def needs_model(self) -> bool:
        """Whether any of its text is translated (not only fixed chunks)."""
        return any(c.fixed is None and c.text.strip() for c in self.chunks)

    def needs_attention(self) -> bool:
        """Whether words must be aligned to chunks (pieces from more than one chunk)."""
        return len(set(self.owners)) > 1


@dataclass
class Unit:
    """A run of text between block boundaries, as sentences, and what trails them."""

    sentences: list[Sentence]
    trailing: str


@dataclass
class TextPlan:
    """One prepared text.

    Attributes:
        parts: In order: verbatim markup strings and units.
        tags: The inline elements the chunks' tag ids index.
        applied: Glossary entries that occur in the text (their targets are forced).
        markup: Whether the text is HTML/XML (output is escaped).
    """

    parts: list[str | Unit]
    tags: list[InlineTag]
    applied: tuple[GlossaryEntry, ...]
    markup: bool

    @property
    def todo(self) -> list[Sentence]:
        """The sentences the model must decode, in order."""
        return [
            s for part in self.parts if isinstance(part, Unit) for s in part.sentences
            if s.needs_model()
        ]  # fmt: skip

    def render(self, hyps: Sequence[AlignedHypothesis], tokenizer: Tokenizer) -> str:
        """The translated text, given one hypothesis per sentence of `todo`."""
        chosen = {id(s): h for s, h in zip(self.todo, hyps, strict=True)}
        escape: Escape = escape_text if self.markup else str
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            items = []
            for sentence in part.sentences:
                items += render_sentence(sentence, chosen.get(id(sentence)), tokenizer, escape)
            out.append(render_items(items, self.tags) + escape(part.trailing))
        return "".join(out)


class TextPreparer:
    """Prepares texts for one model.

    Args:
        tokenizer: The model's tokenizer.
        max_tokens: Longest sentence, in pieces, the model accepts.
        preferred_tokens: Longest sentence the model translates well; longer ones are
            cut at sentence ends a lowercase word follows (run-on text) and clause
            boundaries first, and only then, if still over `max_tokens`, anywhere.
    """

    def __init__(
        self, tokenizer: Tokenizer, max_tokens: int = 510, preferred_tokens: int = 0
    ) -> None:
        self._tokenizer = tokenizer
        self._max_tokens = max_tokens
        self._preferred = min(preferred_tokens or max_tokens, max_tokens)
        # A token is at least a character, and one character at most four byte pieces.
        self._characters = character_cuts(max(max_tokens // 4, 1))

    def prepare(
        self,
        text: str,
        features: TextFeatures,
        lookup: Callable[[str], Glossary] | None = None,
        check: Callable[[], None] = lambda: None,
    ) -> TextPlan:
        """Protects, parses and segments `text`.

        Args:
            text: The source text (plain or markup, per `features.mime_type`).
            features: The request's features.
            lookup: Finds a stored glossary by name (raises for unknown names).
            check: Raises when the caller's deadline passed or it went away; called
                between units and sentences.

        Raises:
            InvalidOption: Bad glossary, unknown stored glossary, broken markup.
        """
        glossaries, keep = glossaries_of(features, lookup)
        parsed = parse_markup(text) if features.is_markup else None
        units: list[str | list[Chunk]] = parsed.parts if parsed else [[Chunk(text)]]
        escape: Escape = escape_text if features.is_markup else str
        applied: dict[GlossaryEntry, None] = {}
        parts: list[str | Unit] = []
        for unit in units:
            check()
            if isinstance(unit, str):
                parts.append(unit)
                continue
            chunks: list[Chunk] = []
            for chunk in unit:
                chunks += _split_chunk(chunk, features, glossaries, keep, escape, applied)
            parts.append(self._unit(chunks, escape, check))
        tags = parsed.tags if parsed else []
        return TextPlan(parts, tags, tuple(applied), features.is_markup)

    def _unit(self, chunks: list[Chunk], escape: Escape, check: Callable[[], None]) -> Unit:
        plain = "".join(c.text for c in chunks)
        starts = list(itertools.accumulate((len(c.text) for c in chunks), initial=0))[:-1]
        bounds = _merge_across_fixed(sentence_ranges(plain), _fixed_ranges(chunks, starts))
        if not bounds:
            # Only whitespace and anchors: reproduce them.
            kept = [Chunk("", c.fixed if c.fixed is not None else escape(c.text)) for c in chunks]
            return Unit([Sentence(kept, "")], "")
        sentences: list[Sentence] = []
        for sentence in _assign(chunks, starts, plain, bounds):
            check()
            self._encode(sentence)
            if len(sentence.pieces) > self._preferred and sentence.needs_model():
                sentences += self._fit(sentence)
            else:
                sentences.append(sentence)
        return Unit(sentences, plain[bounds[-1][1] :])

    def _encode(self, sentence: Sentence) -> None:
        texts = [c.text for c in sentence.chunks]
        sentence.recased = sentence.is_simple() and _lowercase_start(texts[0])
        if sentence.recased:
            stripped = texts[0].lstrip()
            texts[0] = stripped[:1].upper() + stripped[1:]
        sentence.pieces, sentence.owners = encode_chunks(self._tokenizer, texts)

    def _fit(self, sentence: Sentence) -> list[Sentence]:
        """Cuts a sentence over the preferred length at the strongest boundaries available,
        never inside a fixed chunk."""
        chunks = sentence.chunks
        plain = "".join(c.text for c in chunks)
        starts = list(itertools.accumulate((len(c.text) for c in chunks), initial=0))[:-1]
        fixed = _fixed_ranges(chunks, starts)
        fixed_starts = [start for start, _ in fixed]

        counted: dict[tuple[int, int], int] = {}  # stages look at some ranges again

        def count(start: int, end: int) -> int:
            if (start, end) in counted:
                return counted[start, end]
            # Only the chunks inside [start, end): an index walk, never a list copy.
            index = max(bisect.bisect_right(starts, start) - 1, 0)
            texts = []
            while index < len(chunks) and starts[index] < end:
                chunk_end = starts[index] + len(chunks[index].text)
                texts.append(plain[max(start, starts[index]) : min(end, chunk_end)])
                index += 1
            counted[start, end] = len(encode_chunks(self._tokenizer, texts)[0])
            return counted[start, end]

        def allowed(cut: Cut) -> bool:
            for position in cut:
                index = bisect.bisect_left(fixed_starts, position) - 1
                if index >= 0 and fixed[index][0] < position < fixed[index][1]:
                    return False
            return True

        def fixed_edges(text: str, start: int, end: int) -> list[Cut]:
            first = max(bisect.bisect_left(fixed_starts, start) - 1, 0)
            edges = itertools.takewhile(lambda r: r[0] < end, fixed[first:])
            return [(p, p) for r in edges for p in r if start < p < end]

        stages = [
            Stage(self._preferred, (weak_sentence_ends,), pack=False),
            Stage(self._preferred, (clause_boundaries, word_boundaries)),
            Stage(self._max_tokens, (word_boundaries, fixed_edges, self._characters)),
        ]
        core_start = len(plain) - len(plain.lstrip())
        bounds = fit_ranges(plain, core_start, len(plain.rstrip()), count, stages, allowed)
        parts = _assign(chunks, starts, plain, bounds)
        parts[0].lead = sentence.lead + parts[0].lead
        for part in parts:
            self._encode(part)
            if len(part.pieces) > self._max_tokens and part.needs_model():
                raise InputTooLong(
                    f"a sentence of {len(part.pieces)} tokens cannot be cut below the "
                    f"{self._max_tokens} this model accepts without cutting a placeholder or "
                    "term; shorten it"
                )
        return parts


def _lowercase_start(text: str) -> bool:
    """Whether `text` starts with a word of lowercase letters only ("the", not "iPhone",
    "e.g." or "x2")."""
    word = text.lstrip().split(maxsplit=1)[0] if text.strip() else ""
    word = word.rstrip(",;:.!?")
    return word.isalpha() and word.islower() and word[:1].upper() != word[:1]


def _split_chunk(
    chunk: Chunk,
    features: TextFeatures,
    glossaries: Sequence[Glossary],
    keep: Sequence[bool],
    escape: Escape,
    applied: dict[GlossaryEntry, None],
) -> list[Chunk]:
    """Cuts a text chunk around its protected spans and glossary terms (fixed chunks)."""
    if chunk.fixed is not None or not chunk.text.strip():
        return [chunk]
    text = chunk.text
    spans: list[Span] = find_protected(text) if features.protect_placeholders else []
    forced, matches = find_terms(text, glossaries, keep, spans)
    for match in matches:
        applied.setdefault(match.entry)
    out: list[Chunk] = []
    position = 0
    for span in sorted([*spans, *forced]):
        if span.start > position:
            out.append(Chunk(text[position : span.start], None, chunk.tags))
        out.append(Chunk(text[span.start : span.end], escape(span.replacement), chunk.tags))
        position = span.end
    if position < len(text):
        out.append(Chunk(text[position:], None, chunk.tags))
    return out


def _fixed_ranges(chunks: Sequence[Chunk], starts: Sequence[int]) -> list[tuple[int, int]]:
    return [
        (s, s + len(c.text)) for c, s in zip(chunks, starts, strict=True) if c.fixed is not None
    ]


def _merge_across_fixed(
    bounds: list[tuple[int, int]], fixed: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Joins sentences a fixed chunk spans (an ICU message with a full stop): a fixed
    chunk is never cut. One pass over both sorted lists."""
    merged: list[tuple[int, int]] = []
    index, reach = 0, -1  # reach: furthest end of the fixed chunks starting before `start`
    for start, end in bounds:
        while index < len(fixed) and fixed[index][0] < start:
            reach = max(reach, fixed[index][1])
            index += 1
        if merged and reach > merged[-1][1]:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _assign(
    chunks: Sequence[Chunk], starts: Sequence[int], plain: str, bounds: list[tuple[int, int]]
) -> list[Sentence]:
    """The sentences of `bounds`, each with the (cut) chunks inside it; anchors (empty
    fixed chunks) join the first sentence that ends at or after them. Linear."""
    sentences = [
        Sentence([], plain[bounds[i - 1][1] : start] if i else plain[:start])
        for i, (start, _) in enumerate(bounds)
    ]
    last = len(bounds) - 1
    anchor_at = text_at = 0
    for chunk, start in zip(chunks, starts, strict=True):
        end = start + len(chunk.text)
        if chunk.fixed is not None and not chunk.text.strip():
            while anchor_at < last and bounds[anchor_at][1] < start:
                anchor_at += 1
            sentences[anchor_at].chunks.append(chunk)
            continue
        while text_at < last and bounds[text_at][1] <= start:
            text_at += 1
        index = text_at
        while index <= last and bounds[index][0] < end:
            lo, hi = max(start, bounds[index][0]), min(end, bounds[index][1])
            if lo < hi:
                sentences[index].chunks.append(Chunk(plain[lo:hi], chunk.fixed, chunk.tags))
            index += 1
    return sentences
