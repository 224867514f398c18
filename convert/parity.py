"""Parity check: does the CTranslate2 model translate like the Hugging Face model?"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dragoman.convert.translate import PairCodec, ct2_translate, hf_translate, load_ct2

# Used when no sample file is given: short, plain English sentences.
DEFAULT_SENTENCES = (
    "The weather is nice today.",
    "Where is the train station?",
    "I would like a cup of coffee, please.",
    "The children are playing in the garden.",
    "This book was written a long time ago.",
    "Please close the door when you leave.",
    "We will meet again next week.",
    "How much does this cost?",
)
_ENGLISH = ("eng_Latn", "en")
_PREFERRED_TARGETS = ("fra_Latn", "deu_Latn", "spa_Latn", "fr", "de", "es")


@dataclass(frozen=True)
class Sample:
    """Sentences to translate from one language into another."""

    source: str
    target: str
    texts: tuple[str, ...]


@dataclass(frozen=True)
class ParityReport:
    """How often the CT2 output equals the HF greedy output."""

    total: int
    agree: int
    mismatches: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        """Agreement in [0, 1] (1.0 for an empty sample)."""
        return self.agree / self.total if self.total else 1.0

    def summary(self) -> str:
        """One line for logs and the CLI."""
        return f"parity: CT2 equals HF on {self.agree}/{self.total} ({self.ratio:.1%})"


def default_samples(codes: Sequence[str], max_targets: int = 2) -> list[Sample]:
    """English sentences into up to `max_targets` other languages of a model."""
    source = next((c for c in _ENGLISH if c in codes), "")
    if not source:
        return []
    others = [c for c in codes if c != source]
    preferred = [c for c in _PREFERRED_TARGETS if c in others]
    targets = (preferred + [c for c in others if c not in preferred])[:max_targets]
    return [Sample(source, t, DEFAULT_SENTENCES) for t in targets]


def samples_from_rows(rows: Sequence[dict[str, str]], limit: int = 0) -> list[Sample]:
    """Every direction between the languages of multi-parallel rows."""
    rows = list(rows[:limit] if limit else rows)
    codes = list(rows[0]) if rows else []
    return [Sample(s, t, tuple(r[s] for r in rows)) for s, t in itertools.permutations(codes, 2)]


def check_parity(
    hf_model: Any, codec: PairCodec, ct2_dir: Path, samples: Sequence[Sample], threads: int = 1
) -> ParityReport:
    """Translates every sample with both models and counts identical outputs."""
    translator = load_ct2(ct2_dir, threads=threads)
    total = agree = 0
    mismatches: list[tuple[str, str, str]] = []
    for sample in samples:
        hf = hf_translate(hf_model, codec, sample.texts, sample.source, sample.target)
        ct2 = ct2_translate(translator, codec, sample.texts, sample.source, sample.target)
        for text, a, b in zip(sample.texts, hf, ct2, strict=True):
            total += 1
            if a == b:
                agree += 1
            elif len(mismatches) < 10:
                mismatches.append((text, a, b))
    return ParityReport(total=total, agree=agree, mismatches=mismatches)
