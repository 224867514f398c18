"""Translation features around the decoder: terminology, protected spans, markup.

`FeatureProcessor.translate` takes one text and a request's `TextFeatures`, cuts the
text into sentences of chunks (markup units, placeholders, glossary terms,
do-not-translate terms), has the engine decode the sentences with attention, and
puts the text back together: fixed chunks come back exactly once, byte-identical
(glossary terms as their required target), inline tags around the aligned words.
A sentence made only of fixed chunks is not decoded at all.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dragoman.engine.alignment import (
    AlignedHypothesis,
    Chunk,
    TargetWord,
    TranslatePieces,
    align_words,
    encode_chunks,
)
from dragoman.engine.errors import InputTooLong, InvalidOption
from dragoman.engine.markup import InlineTag, Item, escape_text, parse_markup, render_items
from dragoman.engine.segmenter import split_sentences
from dragoman.engine.spans import Span, find_protected
from dragoman.engine.terminology import Glossary, GlossaryEntry, find_terms
from dragoman.engine.tokenizer import Tokenizer

#: mime_type -> whether the text is markup. "" means text/plain.
MIME_TYPES: dict[str, bool] = {
    "": False,
    "text/plain": False,
    "text/html": True,
    "application/xhtml+xml": True,
    "text/xml": True,
    "application/xml": True,
}


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

    def cache_key(self, glossary_digest: str = "") -> str:
        """A short stable key of every field that changes the output.

        Args:
            glossary_digest: `Glossary.digest()` of the named glossary, so that editing
                a stored glossary invalidates cached translations made with it.
        """
        mime = "text/plain" if not self.is_markup else self.mime_type
        payload = json.dumps(
            [
                _compile(self.glossary_entries, self.glossary_ignore_case).digest()
                if self.glossary_entries
                else "",
                self.glossary_name,
                glossary_digest,
                sorted(self.do_not_translate),
                self.protect_placeholders,
                mime,
            ],
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:32]


DEFAULT_FEATURES = TextFeatures()


@functools.lru_cache(maxsize=64)
def _compile(entries: tuple[GlossaryEntry, ...], ignore_case: bool) -> Glossary:
    return Glossary(entries, ignore_case=ignore_case)


@functools.lru_cache(maxsize=64)
def _compile_dnt(terms: tuple[str, ...]) -> Glossary:
    # Do-not-translate terms may repeat; keep the first of each.
    return Glossary(
        tuple(GlossaryEntry(t, t) for t in dict.fromkeys(terms)), name="do_not_translate"
    )


@dataclass(frozen=True)
class FeatureResult:
    """A text translated with features.

    Attributes:
        text: The best translation.
        alternatives: Translations from the n-best lists (the first is `text`).
        scores: Per alternative, the mean hypothesis score (None when not returned).
        applied: Glossary entries that occur in the text and were forced.
        decoded: How many sentences went through the model.
    """

    text: str
    alternatives: tuple[str, ...] = ()
    scores: tuple[float | None, ...] = ()
    applied: tuple[GlossaryEntry, ...] = ()
    decoded: int = 0


@dataclass
class _Sentence:
    chunks: list[Chunk]
    lead: str
    pieces: list[str] = field(default_factory=list)
    owners: list[int] = field(default_factory=list)

    def needs_model(self) -> bool:
        return any(c.fixed is None and c.text.strip() for c in self.chunks)


@dataclass
class _Prepared:
    parts: list[str | tuple[list[_Sentence], str]]
    tags: list[InlineTag]
    applied: list[GlossaryEntry]


class FeatureProcessor:
    """Applies `TextFeatures` around a model's decoder.

    Args:
        tokenizer: The model's tokenizer.
        max_source_tokens: Longest sentence, in pieces, the model accepts.
    """

    def __init__(self, tokenizer: Tokenizer, max_source_tokens: int = 510) -> None:
        self._tokenizer = tokenizer
        self._max_tokens = max_source_tokens

    def needs_features(self, text: str, features: TextFeatures) -> bool:
        """Whether `text` needs this path (False: plain translation gives the same)."""
        if features.is_markup or features.glossary_entries or features.glossary_name:
            return True
        if features.do_not_translate:
            return True
        return features.protect_placeholders and bool(find_protected(text))

    def translate(
        self,
        text: str,
        features: TextFeatures,
        translate_pieces: TranslatePieces,
        num_hypotheses: int = 1,
        glossaries: Callable[[str], Glossary] | None = None,
    ) -> FeatureResult:
        """Translates one text with its features.

        Args:
            text: The source text (plain or markup, per `features.mime_type`).
            features: The request's features.
            translate_pieces: Decodes source piece lists with attention (n-best).
            num_hypotheses: How many alternatives to render (>= 1).
            glossaries: Looks up a stored glossary by name (raises for unknown names).

        Raises:
            InvalidOption: Bad glossary, unknown stored glossary, broken markup.
            InputTooLong: A sentence longer than the model accepts.
        """
        prepared = self._prepare(text, features, glossaries)
        sentences = [s for part in prepared.parts if isinstance(part, tuple) for s in part[0]]
        todo = [s for s in sentences if s.needs_model()]
        results = translate_pieces([s.pieces for s in todo]) if todo else []
        hyps: dict[int, list[AlignedHypothesis]] = {
            id(s): r for s, r in zip(todo, results, strict=True)
        }
        texts: list[str] = []
        scores: list[float | None] = []
        for k in range(max(1, num_hypotheses)):
            if k > 0 and all(len(h) <= k for h in hyps.values()):
                break
            chosen = {key: h[min(k, len(h) - 1)] for key, h in hyps.items() if h}
            texts.append(self._render(prepared, chosen, features.is_markup))
            values = [h.score for h in chosen.values() if h.score is not None]
            scores.append(sum(values) / len(values) if values else None)
        return FeatureResult(
            texts[0], tuple(texts), tuple(scores), tuple(prepared.applied), len(todo)
        )

    def _prepare(
        self, text: str, features: TextFeatures, lookup: Callable[[str], Glossary] | None
    ) -> _Prepared:
        glossaries, keep = _glossaries_of(features, lookup)
        parsed = parse_markup(text) if features.is_markup else None
        units: list[str | list[Chunk]] = parsed.parts if parsed else [[Chunk(text)]]
        escape: Callable[[str], str] = escape_text if features.is_markup else str
        prepared = _Prepared([], parsed.tags if parsed else [], [])
        for unit in units:
            if isinstance(unit, str):
                prepared.parts.append(unit)
                continue
            chunks: list[Chunk] = []
            for chunk in unit:
                chunks += self._split_chunk(chunk, features, glossaries, keep, escape, prepared)
            prepared.parts.append(self._sentences(chunks, escape))
        return prepared

    @staticmethod
    def _split_chunk(
        chunk: Chunk,
        features: TextFeatures,
        glossaries: Sequence[Glossary],
        keep: Sequence[bool],
        escape: Callable[[str], str],
        prepared: _Prepared,
    ) -> list[Chunk]:
        if chunk.fixed is not None or not chunk.text.strip():
            return [chunk]
        text = chunk.text
        spans: list[Span] = find_protected(text) if features.protect_placeholders else []
        forced, applied = find_terms(text, glossaries, keep, spans)
        for match in applied:
            if match.entry not in prepared.applied:
                prepared.applied.append(match.entry)
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

    def _sentences(
        self, chunks: list[Chunk], escape: Callable[[str], str]
    ) -> tuple[list[_Sentence], str]:
        plain = "".join(c.text for c in chunks)
        segmented = split_sentences(plain)
        bounds: list[tuple[int, int]] = []
        position = len(segmented.separators[0])
        for sentence, separator in zip(segmented.sentences, segmented.separators[1:], strict=True):
            bounds.append((position, position + len(sentence)))
            position += len(sentence) + len(separator)
        starts: list[int] = []
        offset = 0
        for chunk in chunks:
            starts.append(offset)
            offset += len(chunk.text)
        bounds = _merge_across_fixed(bounds, chunks, starts)
        if not bounds:
            # Only whitespace and anchors: reproduce them.
            kept = [Chunk("", c.fixed if c.fixed is not None else escape(c.text)) for c in chunks]
            return [_Sentence(kept, "")], ""
        sentences = [
            _Sentence([], plain[bounds[i - 1][1] : start] if i else plain[:start])
            for i, (start, _) in enumerate(bounds)
        ]
        for chunk, start in zip(chunks, starts, strict=True):
            end = start + len(chunk.text)
            for index, (s_start, s_end) in enumerate(bounds):
                last = index == len(bounds) - 1
                if chunk.fixed is not None and not chunk.text.strip() and (start <= s_end or last):
                    sentences[index].chunks.append(chunk)
                    break
                lo, hi = max(start, s_start), min(end, s_end)
                if lo < hi:
                    sentences[index].chunks.append(Chunk(plain[lo:hi], chunk.fixed, chunk.tags))
        for sentence in sentences:
            sentence.pieces, sentence.owners = encode_chunks(
                self._tokenizer, [c.text for c in sentence.chunks]
            )
            if len(sentence.pieces) > self._max_tokens:
                raise InputTooLong(
                    f"a sentence of {len(sentence.pieces)} tokens is longer than the "
                    f"{self._max_tokens} this model accepts with markup or terminology; "
                    "split it"
                )
        return sentences, plain[bounds[-1][1] :]

    def _render(
        self, prepared: _Prepared, chosen: dict[int, AlignedHypothesis], markup: bool
    ) -> str:
        escape: Callable[[str], str] = escape_text if markup else str
        out: list[str] = []
        for part in prepared.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            sentences, trailing = part
            items: list[Item] = []
            for sentence in sentences:
                items += _sentence_items(
                    sentence, chosen.get(id(sentence)), self._tokenizer, escape
                )
            out.append(render_items(items, prepared.tags) + escape(trailing))
        return "".join(out)


def _glossaries_of(
    features: TextFeatures, lookup: Callable[[str], Glossary] | None
) -> tuple[list[Glossary], list[bool]]:
    # Priority: do-not-translate, then inline entries, then the stored glossary.
    glossaries: list[Glossary] = []
    keep: list[bool] = []
    if features.do_not_translate:
        glossaries.append(_compile_dnt(features.do_not_translate))
        keep.append(True)
    if features.glossary_entries:
        glossaries.append(_compile(features.glossary_entries, features.glossary_ignore_case))
        keep.append(False)
    if features.glossary_name:
        if lookup is None:
            raise InvalidOption(
                "this server has no glossary store (--glossary-dir); send glossary entries"
            )
        glossaries.append(lookup(features.glossary_name))
        keep.append(False)
    return glossaries, keep


def _merge_across_fixed(
    bounds: list[tuple[int, int]], chunks: Sequence[Chunk], starts: Sequence[int]
) -> list[tuple[int, int]]:
    # A sentence boundary inside a fixed chunk (an ICU message with a full stop)
    # joins the two sentences: a fixed chunk is never cut.
    merged: list[tuple[int, int]] = []
    for start, end in bounds:
        if merged and any(
            c.fixed is not None and s < start and merged[-1][1] < s + len(c.text)
            for c, s in zip(chunks, starts, strict=True)
        ):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _space_before(chunks: Sequence[Chunk], index: int) -> bool:
    return index > 0 and (chunks[index - 1].text[-1:].isspace() or chunks[index].text[:1].isspace())


def _sentence_items(
    sentence: _Sentence,
    hyp: AlignedHypothesis | None,
    tokenizer: Tokenizer,
    escape: Callable[[str], str],
) -> list[Item]:
    chunks = sentence.chunks
    if hyp is None:
        placed = [
            (i, Item("", c.fixed if c.fixed is not None else escape(c.text), c.tags))
            for i, c in enumerate(chunks)
        ]
    else:
        placed = _aligned_items(chunks, align_words(hyp, sentence.owners, tokenizer), escape)
    items = [item for _, item in _keep_every_tag(chunks, placed)]
    if items:
        items[0] = Item(escape(sentence.lead), items[0].content, items[0].tags)
    return items


def _aligned_items(
    chunks: Sequence[Chunk], words: Sequence[TargetWord], escape: Callable[[str], str]
) -> list[tuple[int, Item]]:
    # Each target word in its aligned chunk's tags; a fixed chunk once, at its first
    # aligned word (later ones are the model's rendering of it, dropped); fixed chunks
    # no word aligns to go before the first word aligned to a later chunk.
    aligned = {w.chunk for w in words}
    anchors = [i for i, c in enumerate(chunks) if c.fixed is not None and i not in aligned]
    emitted: set[int] = set()
    placed: list[tuple[int, Item]] = []

    def place_anchor(index: int) -> None:
        lead = " " if _space_before(chunks, index) else ""
        placed.append((index, Item(lead, chunks[index].fixed or "", chunks[index].tags)))

    for word in words:
        while anchors and anchors[0] < word.chunk:
            place_anchor(anchors.pop(0))
        chunk = chunks[word.chunk]
        lead = " " if word.space else ""
        if chunk.fixed is None:
            placed.append((word.chunk, Item(lead, escape(word.text), chunk.tags)))
        elif word.chunk not in emitted:
            emitted.add(word.chunk)
            placed.append((word.chunk, Item(lead, chunk.fixed, chunk.tags)))
    for index in anchors:
        place_anchor(index)
    return placed


def _keep_every_tag(
    chunks: Sequence[Chunk], placed: list[tuple[int, Item]]
) -> list[tuple[int, Item]]:
    # An element no target word was aligned to still comes back (empty, attributes
    # kept) where its source position maps to, so no tag is ever lost.
    present = {tag for _, item in placed for tag in item.tags}
    for index, chunk in enumerate(chunks):
        missing = [depth for depth, tag in enumerate(chunk.tags) if tag not in present]
        if not missing:
            continue
        stack = chunk.tags[: missing[-1] + 1]
        position = next((p for p, (i, _) in enumerate(placed) if i > index), len(placed))
        lead = " " if _space_before(chunks, index) else ""
        placed.insert(position, (index, Item(lead, "", stack)))
        present.update(stack)
    return placed
