"""Translation features on the shipped demo model, checked exactly against its grammar.

The demo languages come from a rule-based grammar (finetune/demo), so the right
output of every sentence is known: a glossary that forces a new word for the object
noun must give the reference translation with that noun's word replaced, wherever
the grammar moves it (Qaa is verb-final). Placeholders, markup and detection are
checked on the same held-out sentences.
"""

from __future__ import annotations

import random

import pytest
from dragoman.engine.features import TextFeatures
from dragoman.engine.service import TranslationEngine
from dragoman.engine.terminology import GlossaryEntry
from dragoman.engine.types import CallContext, DecodingOptions, TranslationRequest

CASES = 120
TERM = "Zorbix"
OPTIONS = DecodingOptions(beam_size=2)


def _cases() -> list[tuple[str, str, str, str]]:
    """(english, qaa reference, english object noun, its qaa word), held-out seed."""
    grammar = pytest.importorskip("dragoman.finetune.demo.grammar")
    sampler = grammar.ClauseSampler(seed=987_654)
    cases = []
    while len(cases) < CASES:
        clause = sampler.sample()
        row = grammar.realize(clause)
        noun, plural = clause.obj.noun, clause.obj.plural
        eng = noun.eng_plural if plural else noun.eng
        qaa = noun.qaa + ("en" if plural else "")
        english_words = row["eng_Latn"].rstrip(".").lower().split()
        qaa_words = row["qaa_Latn"].rstrip(".").lower().split()
        if english_words.count(eng) != 1 or qaa_words.count(qaa) != 1 or qaa_words[0] == qaa:
            continue  # the noun occurs twice (subject and object): ambiguous
        cases.append((row["eng_Latn"], row["qaa_Latn"], eng, qaa))
    return cases


def _translate(engine: TranslationEngine, texts: list[str], features: TextFeatures) -> list:  # type: ignore[type-arg]
    request = TranslationRequest(tuple(texts), "qaa_Latn", "eng_Latn", "", OPTIONS, features)
    return engine.translate(request, CallContext())


def test_glossary_term_is_forced_where_the_source_term_occurs(
    demo_engine: TranslationEngine,
) -> None:
    cases = _cases()
    plain = _translate(demo_engine, [c[0] for c in cases], TextFeatures())
    present = exact = baseline = 0
    for (english, reference, eng, qaa), unforced in zip(cases, plain, strict=True):
        features = TextFeatures(glossary_entries=(GlossaryEntry(eng, TERM),))
        (forced,) = _translate(demo_engine, [english], features)
        expected = " ".join(TERM if w.lower() == qaa else w for w in reference.split(" "))
        expected = expected.replace(f"{qaa}.", f"{TERM}.")
        present += forced.text.count(TERM) == 1
        exact += forced.text == expected
        baseline += unforced.text == reference
        assert [e.source for e in forced.glossary_applied] == [eng]
    print(
        f"demo glossary forcing on {len(cases)} held-out sentences: term present "
        f"{present / len(cases):.1%}, exact expected output {exact / len(cases):.1%} "
        f"(unforced model exact {baseline / len(cases):.1%})"
    )
    assert present / len(cases) >= 0.95
    assert exact / len(cases) >= 0.8 * baseline / len(cases)


PLACEHOLDERS = [
    "{name}",
    "%s",
    "%1$s",
    "{{var}}",
    "{count, plural, one {# x} other {# xs}}",
    "https://example.com/a?b=1",
    "ops@example.org",
    "`make test`",
    "%(user)s",
]


def test_placeholders_byte_identical_on_the_demo_model(demo_engine: TranslationEngine) -> None:
    rng = random.Random(5)
    texts = []
    for english, *_ in _cases()[:40]:
        words = english.rstrip(".").split(" ")
        words.insert(rng.randrange(1, len(words) + 1), rng.choice(PLACEHOLDERS))
        texts.append(" ".join(words) + ".")
    results = _translate(demo_engine, texts, TextFeatures())
    kept = sum(
        next(p for p in PLACEHOLDERS if p in text) in result.text
        for text, result in zip(texts, results, strict=True)
    )
    print(f"demo placeholders kept byte-identical: {kept}/{len(texts)}")
    assert kept == len(texts)


def test_html_on_the_demo_model(demo_engine: TranslationEngine) -> None:
    cases = _cases()[:20]
    texts = []
    for english, _, eng, _ in cases:
        texts.append("<p>" + english.replace(eng, f'<b class="t">{eng}</b>', 1) + "</p>")
    results = _translate(demo_engine, texts, TextFeatures(mime_type="text/html"))
    wrapped = 0
    for (_, _, _, qaa), result in zip(cases, results, strict=True):
        assert result.text.startswith("<p>") and result.text.endswith("</p>")
        assert result.text.count('<b class="t">') >= 1 and result.text.count("</b>") >= 1
        wrapped += f'<b class="t">{qaa}</b>' in result.text.lower()
    print(f"demo markup: tag around the aligned word in {wrapped}/{len(cases)}")
    assert wrapped / len(cases) >= 0.8


def test_mixed_language_batch_is_detected_per_item(demo_engine: TranslationEngine) -> None:
    grammar = pytest.importorskip("dragoman.finetune.demo.grammar")
    sampler = grammar.ClauseSampler(seed=424_242)
    texts, expected = [], []
    for index in range(30):
        code = ("eng_Latn", "qaa_Latn", "qab_Latn")[index % 3]
        texts.append(grammar.realize(sampler.sample())[code])
        expected.append(code)
    request = TranslationRequest(tuple(texts), "eng_Latn", "", "", OPTIONS)
    detected = [t.source_language for t in demo_engine.translate(request, CallContext())]
    correct = sum(d == e for d, e in zip(detected, expected, strict=True))
    print(f"demo per-item detection: {correct}/{len(texts)}")
    assert correct / len(texts) >= 0.9


def test_markup_is_detected_from_its_text(demo_engine: TranslationEngine) -> None:
    grammar = pytest.importorskip("dragoman.finetune.demo.grammar")
    row = grammar.realize(grammar.ClauseSampler(seed=77).sample())
    html = f'<p class="qab_Latn eng_Latn"><b>{row["qaa_Latn"]}</b></p>'
    features = TextFeatures(mime_type="text/html")
    request = TranslationRequest((html,), "eng_Latn", "", "", OPTIONS, features)
    (result,) = demo_engine.translate(request, CallContext())
    assert result.source_language == "qaa_Latn"
    assert result.text.startswith('<p class="qab_Latn eng_Latn"><b>')
