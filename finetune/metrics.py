"""Corpus-level translation metrics (sacrebleu)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Scores:
    """BLEU, chrF and exact-match rate of one direction."""

    bleu: float
    chrf: float
    exact: float
    count: int

    def as_dict(self) -> dict[str, float]:
        """JSON-ready form, rounded to 2 decimals."""
        return {
            "bleu": round(self.bleu, 2),
            "chrf": round(self.chrf, 2),
            "exact_match": round(self.exact, 4),
            "sentences": self.count,
        }


def chrf(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus chrF (0-100)."""
    import sacrebleu

    return float(sacrebleu.corpus_chrf(list(hypotheses), [list(references)]).score)


def score(hypotheses: Sequence[str], references: Sequence[str]) -> Scores:
    """BLEU, chrF and exact match of hypotheses against one reference each."""
    import sacrebleu

    hyps, refs = list(hypotheses), list(references)
    exact = sum(h == r for h, r in zip(hyps, refs, strict=True)) / max(1, len(refs))
    return Scores(
        bleu=float(sacrebleu.corpus_bleu(hyps, [refs]).score),
        chrf=chrf(hyps, refs),
        exact=exact,
        count=len(refs),
    )
