"""From CTranslate2 results back to texts, alternatives and scores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dragoman.engine.types import Alternative, DecodingOptions, Translation

if TYPE_CHECKING:
    from dragoman.engine.model import PreparedText, TranslationModel


def _text_score(scores: Sequence[float], lengths: Sequence[int]) -> float | None:
    """Token-weighted mean of per-sentence average log-probabilities."""
    total = sum(lengths)
    if not scores or total == 0:
        return None
    return sum(s * n for s, n in zip(scores, lengths, strict=True)) / total


def assemble_translation(
    model: TranslationModel,
    prepared: PreparedText,
    outputs: Sequence[Any],
    source_code: str,
    options: DecodingOptions,
) -> Translation:
    """Builds one text's `Translation` from the CT2 results of its segments.

    Alternative k of a text joins the k-th hypothesis of every sentence (the best one
    where a sentence has fewer); the first alternative is therefore the translation.
    """
    if not outputs:
        return Translation(prepared.segmented.join([]), source_code, model.name)
    count = max(options.num_alternatives, 1)
    texts: list[str] = []
    scores: list[float | None] = []
    for k in range(count):
        sentences, sentence_scores, lengths = [], [], []
        for output in outputs:
            index = k if k < len(output.hypotheses) else 0
            tokens = output.hypotheses[index]
            sentences.append(model.detokenize(tokens))
            if output.scores:
                sentence_scores.append(float(output.scores[index]))
                lengths.append(max(len(tokens), 1))
        texts.append(prepared.segmented.join(sentences))
        scores.append(_text_score(sentence_scores, lengths))
    alternatives: tuple[Alternative, ...] = ()
    if options.num_alternatives > 0:
        alternatives = tuple(
            Alternative(text, score if options.return_scores else None)
            for text, score in zip(texts, scores, strict=True)
        )
    return Translation(
        text=texts[0],
        source_language=source_code,
        model=model.name,
        score=scores[0] if options.return_scores else None,
        alternatives=alternatives,
    )
