"""The demo corpus: deterministic, private-use codes, no sentence shared across splits."""

from __future__ import annotations

import re

from dragoman.finetune.demo import lexicon
from dragoman.finetune.demo.corpus import CorpusSpec, build_corpus
from dragoman.finetune.demo.domain import domain_corpus
from dragoman.finetune.demo.grammar import Clause, NounPhrase, realize

SMALL = CorpusSpec(train=2000, dev=100, test=100, seed=5)


def test_codes_are_english_and_private_use() -> None:
    assert lexicon.CODES[0] == "eng_Latn"
    for code in lexicon.CODES[1:]:
        iso, script = code.split("_")
        assert "qaa" <= iso <= "qtz" and script == "Latn"


def test_same_seed_same_corpus_and_no_shared_sentence() -> None:
    corpus = build_corpus(SMALL)
    assert corpus == build_corpus(SMALL)
    assert (len(corpus.train), len(corpus.dev), len(corpus.test)) == (2000, 100, 100)
    for code in lexicon.CODES:
        splits = [{row[code] for row in corpus.split(s)} for s in ("train", "dev", "test")]
        assert sum(map(len, splits)) == 2200  # distinct within and across splits
    domain = domain_corpus(corpus)
    assert not {r["eng_Latn"] for r in domain.test} & {r["eng_Latn"] for r in corpus.train}


def test_grammar_word_order_agreement_and_morphology() -> None:
    dog, river = lexicon.ANIMATE[0], lexicon.PLACES[1]
    see, big, near = lexicon.VERBS[0], lexicon.ADJECTIVES[0], lexicon.ADPOSITIONS[1]
    clause = Clause(
        subject=NounPhrase(dog, plural=True, det="the", adj=big),
        verb=see,
        tense="past",
        negated=True,
        obj=NounPhrase(lexicon.ANIMATE[1], plural=False, det="a"),
        place=(near, NounPhrase(river, plural=False, det="this")),
        adverb=lexicon.ADVERBS[3],
    )
    assert realize(clause) == {
        "eng_Latn": "The big dogs did not see a cat near this river again.",
        "qaa_Latn": "Opet hunen mari ka flun tu pe mir ne na bavidan.",
        "qab_Latn": "Sugorurma le gros kani pisk ko si reke gen.",
    }
    present = Clause("3sg_f", see, "present", False, NounPhrase(lexicon.THINGS[0], False, "a"))
    assert realize(present)["eng_Latn"] == "She sees an apple."


def test_lexicon_is_data_for_glossaries() -> None:
    data = lexicon.as_dict()
    entry = next(n for n in data["nouns"] if n["eng"] == "river")
    assert entry == {"eng": "river", "eng_plural": "rivers", "qaa": "flun", "qab": "rek"}
    words = [w for key in ("nouns", "verbs", "adjectives") for e in data[key] for w in (e["qaa"],)]
    assert all(re.fullmatch(r"[a-z]+", w) for w in words)
