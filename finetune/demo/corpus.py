"""The demo corpus: multi-parallel rows split into train/dev/test with no shared sentence."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from dragoman.finetune.demo.grammar import ClauseSampler, realize
from dragoman.finetune.demo.lexicon import CODES

Row = dict[str, str]


@dataclass(frozen=True)
class CorpusSpec:
    """Sizes and seed of a corpus (part of the demo recipe, so part of its hash)."""

    train: int = 20000
    dev: int = 300
    test: int = 300
    seed: int = 1234
    domain: bool = False


@dataclass(frozen=True)
class Corpus:
    """Train, dev and test rows; each row maps every language code to a sentence."""

    train: list[Row]
    dev: list[Row]
    test: list[Row]

    def split(self, name: str) -> list[Row]:
        """Returns the rows of split `name` (train, dev or test)."""
        return {"train": self.train, "dev": self.dev, "test": self.test}[name]


def build_corpus(spec: CorpusSpec, exclude: set[str] | None = None) -> Corpus:
    """Draws unique clauses and splits them; no sentence occurs in two splits.

    Args:
        spec: Sizes and seed.
        exclude: English sentences that must not occur (another corpus's sentences).
    """
    sampler = ClauseSampler(spec.seed, domain=spec.domain)
    seen: dict[str, set[str]] = {code: set(exclude or ()) for code in CODES}
    rows: list[Row] = []
    total = spec.train + spec.dev + spec.test
    for _ in range(total * 50):
        if len(rows) == total:
            break
        row = realize(sampler.sample())
        if any(row[code] in seen[code] for code in CODES):
            continue
        for code in CODES:
            seen[code].add(row[code])
        rows.append(row)
    else:
        raise RuntimeError(f"the grammar yields fewer than {total} distinct sentences")
    test, dev = rows[: spec.test], rows[spec.test : spec.test + spec.dev]
    return Corpus(train=rows[spec.test + spec.dev :], dev=dev, test=test)


def write_tsv(rows: list[Row], path: Path, codes: tuple[str, ...] = CODES) -> None:
    """Writes rows as TSV with a header line naming the language code of each column."""
    lines = ["\t".join(codes)] + ["\t".join(row[c] for c in codes) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_jsonl(rows: list[Row], path: Path) -> None:
    """Writes rows as JSON lines, one object mapping language codes to sentences."""
    path.write_text(
        "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8"
    )
