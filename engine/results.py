"""From decoded segments back to one text's `Translation`: the only assembler."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dragoman.engine.alignment import AlignedHypothesis
from dragoman.engine.types import Alternative, DecodingOptions, Translation

if TYPE_CHECKING:
    from dragoman.engine.model import SegmentResult, TranslationModel
    from dragoman.engine.plan import TextPlan


def _text_score(scores: Sequence[float], lengths: Sequence[int]) -> float | None:
    """Token-weighted mean of per-sentence average log-probabilities."""
    total = sum(lengths)
    if not scores or total == 0:
        return None
    return sum(s * n for s, n in zip(scores, lengths, strict=True)) / total


def hypothesis(model: TranslationModel, result: SegmentResult, k: int) -> AlignedHypothesis:
    """Hypothesis `k` of a decoded segment (the best one where it has fewer)."""
    index = k if k < len(result.hypotheses) else 0
    sources = result.alignments[index] if index < len(result.alignments) else ()
    score = result.scores[index] if index < len(result.scores) else None
    return AlignedHypothesis(tuple(model.output_pieces(result.hypotheses[index])), sources, score)


def assemble_translation(
    model: TranslationModel,
    plan: TextPlan,
    results: Sequence[SegmentResult],
    source_code: str,
    options: DecodingOptions,
    cached: bool = False,
) -> Translation:
    """Builds one text's `Translation` from the decoded segments of `plan.todo`.

    Alternative k of a text renders the k-th hypothesis of every sentence (the best one
    where a sentence has fewer); the first alternative is therefore the translation.
    """
    texts: list[str] = []
    scores: list[float | None] = []
    for k in range(max(options.num_alternatives, 1)):
        if k > 0 and all(len(r.hypotheses) <= k for r in results):
            break  # every further alternative would repeat the best one
        hyps = [hypothesis(model, r, k) for r in results]
        texts.append(plan.render(hyps, model.tokenizer))
        lengths = [max(len(h.pieces), 1) for h in hyps if h.score is not None]
        scores.append(_text_score([h.score for h in hyps if h.score is not None], lengths))
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
        cached=cached,
        glossary_applied=plan.applied,
    )
