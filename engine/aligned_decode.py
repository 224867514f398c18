"""Decoding with attention for the feature path (terminology, placeholders, markup).

CTranslate2 returns, with `return_attention=True`, one attention row per hypothesis
token (the target prefix included) over every source token (language token and
`</s>` included). `to_aligned` cuts that down to the text pieces on both sides.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dragoman.engine.alignment import AlignedHypothesis, TranslatePieces
from dragoman.engine.types import DecodingOptions

#: Longest target, in tokens, per source token when no limit is asked for.
_AUTO_RATIO = 2.0
_AUTO_SLACK = 10
_MAX_TOKENS = 1024


def _piece_offset(framed: Sequence[str], pieces: Sequence[str]) -> int:
    for offset in range(len(framed) - len(pieces) + 1):
        if list(framed[offset : offset + len(pieces)]) == list(pieces):
            return offset
    return 0


def to_aligned(
    tokens: Sequence[str],
    attention: Sequence[Sequence[float]] | None,
    score: float | None,
    *,
    prefix_length: int,
    source_offset: int,
    source_length: int,
    is_special: Callable[[str], bool],
) -> AlignedHypothesis:
    """Converts one CTranslate2 hypothesis to an `AlignedHypothesis`.

    Args:
        tokens: The hypothesis, target prefix included.
        attention: CT2's rows for it (one per token), or None.
        score: Its score, if returned.
        prefix_length: Tokens of target prefix to drop.
        source_offset: Index of the first text piece in the framed source.
        source_length: Number of text pieces in the source.
        is_special: Tells language and control tokens (dropped).
    """
    pieces: list[str] = []
    rows: list[tuple[float, ...]] = []
    for index, token in enumerate(tokens):
        if index < prefix_length or is_special(token):
            continue
        pieces.append(token)
        if attention is not None and index < len(attention):
            row = attention[index][source_offset : source_offset + source_length]
            rows.append(tuple(float(v) for v in row))
    complete = attention is not None and len(rows) == len(pieces)
    return AlignedHypothesis(tuple(pieces), tuple(rows) if complete else (), score)


def model_translate_pieces(
    model: Any,
    source_code: str,
    target_code: str,
    options: DecodingOptions,
    before_batch: Callable[[], None] = lambda: None,
) -> TranslatePieces:
    """A `TranslatePieces` for a loaded `TranslationModel` and one language pair.

    Args:
        model: The engine's `TranslationModel` (translator, family).
        source_code: Model code of the source language.
        target_code: Model code of the target language.
        options: Validated decoding options (beam size, n-best, penalties).
        before_batch: Called before decoding (checks the caller's deadline).
    """
    family = model.family
    prefix = list(family.target_prefix(target_code))
    num_hypotheses = max(options.num_alternatives, 1)

    def translate(batch: Sequence[Sequence[str]]) -> list[list[AlignedHypothesis]]:
        before_batch()
        framed = [list(family.source_tokens(pieces, source_code)) for pieces in batch]
        if options.max_output_tokens > 0:
            limit = min(options.max_output_tokens, _MAX_TOKENS)
        else:
            longest = max(len(f) for f in framed)
            limit = min(int(longest * _AUTO_RATIO) + _AUTO_SLACK, _MAX_TOKENS)
        outputs = model.translator.translate_batch(
            framed,
            [prefix] * len(framed),
            beam_size=max(options.beam_size, num_hypotheses),
            num_hypotheses=num_hypotheses,
            length_penalty=options.length_penalty,
            repetition_penalty=options.repetition_penalty,
            no_repeat_ngram_size=options.no_repeat_ngram_size,
            max_decoding_length=limit + len(prefix),
            max_input_length=0,
            return_scores=True,
            return_attention=True,
        )
        results: list[list[AlignedHypothesis]] = []
        for pieces, source, output in zip(batch, framed, outputs, strict=True):
            offset = _piece_offset(source, pieces)
            scores = list(output.scores) or [None] * len(output.hypotheses)
            attentions = list(output.attention) or [None] * len(output.hypotheses)
            results.append(
                [
                    to_aligned(
                        tokens,
                        attention,
                        score if options.return_scores else None,
                        prefix_length=len(prefix),
                        source_offset=offset,
                        source_length=len(pieces),
                        is_special=family.is_special,
                    )
                    for tokens, attention, score in zip(
                        output.hypotheses, attentions, scores, strict=True
                    )
                ]
            )
        return results

    return translate
