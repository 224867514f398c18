"""The domain-adapter demo: workshop terms the demo model never saw.

`DOMAIN_NOUNS` (hammer, valve, pump, ...) fill subject, object and place slots of domain
sentences. The base demo model translates their grammar but not these words; a LoRA
adapter trained on a small domain set (mixed with some general sentences, so the rest of
the model's knowledge stays put) learns them.
"""

from __future__ import annotations

from pathlib import Path

from dragoman.finetune.demo.corpus import Corpus, CorpusSpec, build_corpus, write_tsv

DOMAIN_SPEC = CorpusSpec(train=800, dev=100, test=200, seed=4242, domain=True)


def domain_corpus(general: Corpus, spec: CorpusSpec = DOMAIN_SPEC) -> Corpus:
    """Domain train/dev/test sentences (none shared with each other or with `general`)."""
    splits = ("train", "dev", "test")
    exclude = {row["eng_Latn"] for split in splits for row in general.split(split)}
    return build_corpus(spec, exclude=exclude)


def write_domain_files(general: Corpus, directory: Path, replay: int = 800) -> dict[str, Path]:
    """Writes train (domain + `replay` general rows), dev and test TSVs for the demo.

    Returns:
        {"train", "dev", "test", "general_test"} -> path.
    """
    domain = domain_corpus(general)
    directory.mkdir(parents=True, exist_ok=True)
    files = {name: directory / f"{name}.tsv" for name in ("train", "dev", "test", "general_test")}
    replayed = general.train[:replay]
    mixed = [row for pair in zip(domain.train, replayed, strict=False) for row in pair]
    write_tsv(mixed + domain.train[len(mixed) // 2 :], files["train"])
    write_tsv(domain.dev, files["dev"])
    write_tsv(domain.test, files["test"])
    write_tsv(general.test, files["general_test"])
    return files
