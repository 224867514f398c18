"""Translation features through the engine facade, on the tiny real CTranslate2 models.

The tiny models translate into nonsense, so these tests check what must hold whatever
the model says: placeholders come back byte-identical, glossary targets are present,
markup parses and keeps every tag and attribute. Translation quality is checked with
the demo model in test_features_demo.py.
"""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

import pytest
from dragoman.engine.alignment import AlignedHypothesis
from dragoman.engine.errors import InvalidOption
from dragoman.engine.features import TextFeatures
from dragoman.engine.markup import VOID
from dragoman.engine.plan import TextPreparer
from dragoman.engine.service import TranslationEngine
from dragoman.engine.spans import find_protected
from dragoman.engine.terminology import GlossaryEntry
from dragoman.engine.tokenizer import SentencePieceTokenizer
from dragoman.engine.types import (
    CallContext,
    DecodingOptions,
    StreamConfig,
    TranslationRequest,
)

FAST = DecodingOptions(beam_size=1, max_output_tokens=24)


def translate(
    engine: TranslationEngine, texts: list[str], features: TextFeatures, **options: object
) -> list:  # type: ignore[type-arg]
    opts = DecodingOptions(**{"beam_size": 1, "max_output_tokens": 24, **options})  # type: ignore[arg-type]
    request = TranslationRequest(tuple(texts), "fra_Latn", "eng_Latn", "nllb", opts, features)
    return engine.translate(request, CallContext())


PLACEHOLDER_TEXTS = [
    "Hello {name}, you have %d new messages.",
    "Click {{link}} to confirm %1$s and %2$s.",
    "You have {count, plural, one {# cat} other {# cats}} at home.",
    "Nested {a{b{c}}} braces and {x}{y} glued.",
    "Mail me at first.last@example.org or see https://example.com/a?b=1&c=2.",
    "Run `ls -la` and then `make test`. Then %(user)s is done.",
    "%s",
    "{only}",
    "Two sentences with {one}. And {two} here!",
    "Price: %.2f EUR, 100%% sure, ${HOME}/bin is set.",
    "  Leading and trailing space {kept}  ",
    "Line one {a}\nLine two %s\n\nLine four https://x.org/wiki/A_(b)",
]


@pytest.mark.parametrize("text", PLACEHOLDER_TEXTS)
def test_placeholders_come_back_byte_identical(engine: TranslationEngine, text: str) -> None:
    (result,) = translate(engine, [text], TextFeatures())
    for span in find_protected(text):
        original = text[span.start : span.end]
        assert result.text.count(original) >= text.count(original), (original, result.text)
    assert result.text.startswith(text[: len(text) - len(text.lstrip())])
    assert result.text.endswith(text[len(text.rstrip()) :])


def test_placeholder_table_is_100_percent(engine: TranslationEngine) -> None:
    results = translate(engine, PLACEHOLDER_TEXTS, TextFeatures())
    total = kept = 0
    for text, result in zip(PLACEHOLDER_TEXTS, results, strict=True):
        for span in find_protected(text):
            total += 1
            kept += text[span.start : span.end] in result.text
    print(f"placeholders kept byte-identical: {kept}/{total}")
    assert kept == total > 20


def test_protection_can_be_disabled(engine: TranslationEngine) -> None:
    text = "Hello {name}."
    (plain,) = translate(engine, [text], TextFeatures(protect_placeholders=False))
    (unprotected,) = engine.translate(
        TranslationRequest((text,), "fra_Latn", "eng_Latn", "nllb", FAST), CallContext()
    )
    assert plain.text == unprotected.text or "{name}" not in plain.text


def test_glossary_target_is_forced_and_reported(engine: TranslationEngine) -> None:
    entries = (GlossaryEntry("cat", "CHAT-X"), GlossaryEntry("river", "FLEUVE-Y"))
    texts = ["The cat sees the river.", "My cat walks.", "No term here."]
    results = translate(engine, texts, TextFeatures(glossary_entries=entries))
    assert results[0].text.count("CHAT-X") == 1 and results[0].text.count("FLEUVE-Y") == 1
    assert [e.source for e in results[0].glossary_applied] == ["cat", "river"]
    assert results[1].glossary_applied == (entries[0],)
    assert results[2].glossary_applied == ()


def test_term_that_is_the_whole_text_needs_no_model(engine: TranslationEngine) -> None:
    features = TextFeatures(glossary_entries=(GlossaryEntry("The red cat.", "Le chat rouge."),))
    (result,) = translate(engine, ["  The red cat.  "], features)
    assert result.text == "  Le chat rouge.  "


def test_do_not_translate_keeps_the_source(engine: TranslationEngine) -> None:
    features = TextFeatures(do_not_translate=("Dragoman Cloud", "cat"))
    (result,) = translate(engine, ["Dragoman Cloud sees the cat."], features)
    assert "Dragoman Cloud" in result.text and "cat" in result.text
    assert result.glossary_applied == ()


def test_ten_thousand_glossary_entries(engine: TranslationEngine) -> None:
    entries = tuple(GlossaryEntry(f"term{i}", f"T{i}") for i in range(10_000))
    (result,) = translate(engine, ["The cat sees term42 and term9999."], TextFeatures(entries))
    assert "T42" in result.text and "T9999" in result.text
    assert {e.source for e in result.glossary_applied} == {"term42", "term9999"}


def test_alternatives_stay_bounded_with_features(engine: TranslationEngine) -> None:
    (result,) = translate(
        engine, ["Hello {name}, the cat."], TextFeatures(), beam_size=4, num_alternatives=3,
        return_scores=True,
    )  # fmt: skip
    assert 1 <= len(result.alternatives) <= 3
    assert all("{name}" in a.text and a.score is not None for a in result.alternatives)


def test_stream_segment_with_features(engine: TranslationEngine) -> None:
    features = TextFeatures(glossary_entries=(GlossaryEntry("dog", "CHIEN-Z"),))
    updates = list(
        engine.stream_segment(
            "s1", "The dog sees {name}.",
            StreamConfig("fr", "en", "nllb", FAST, interim=True, features=features),
            CallContext(),
        )
    )  # fmt: skip
    assert updates[-1].is_final and "CHIEN-Z" in updates[-1].text and "{name}" in updates[-1].text


class _Tags(HTMLParser):
    """Collects start tags with attributes and checks that elements nest."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: Counter[tuple[str, tuple[tuple[str, str | None], ...]]] = Counter()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[(tag, tuple(attrs))] += 1
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[(tag, tuple(attrs))] += 1

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


HTML_DOCS = {
    "inline": '<p>Hello <b class="x">big <i>red</i></b> dog.</p>',
    "link": '<p>Read <a href="https://example.com/?a=1&amp;b=2" title="T">the manual</a> now.</p>',
    "skipped": "<p>Use <code>x &lt; y</code> and <kbd>Ctrl</kbd> here.</p><pre>keep  me\n</pre>",
    "translate-no": '<div translate="no">a <b>b</b></div><p class="note notranslate">keep</p>',
    "span-no": '<p>The <span translate="no">Dragoman</span> server is <em>fast</em>.</p>',
    "void": '<p>Line one<br>line two <img src="a.png" alt="A"> end.</p>',
    "xml-inline": '<g id="1">The cat</g> sees <x id="2"/> the <g id="3">dog</g>.',
    "document": (
        "<!DOCTYPE html><html><head><title>The cat</title></head><body><!-- c -->"
        "<h1>The dog</h1><ul><li>One <b>cat</b>.</li><li>Two.</li></ul></body></html>"
    ),
    "entities": "<p>Tom &amp; Jerry &lt;3 the &quot;cat&quot;.</p>",
    "unclosed-inline": "<p>The <b>big cat sees the dog.</p>",
    "two-sentences-one-tag": "<p><b>The cat sees. The dog walks.</b></p>",
    "placeholder-in-markup": '<p>Hello <b>{name}</b>, see <a href="/x">%s</a>.</p>',
    "empty-element": "<p>The <b></b>cat.</p>",
}


@pytest.mark.parametrize("html", HTML_DOCS.values(), ids=HTML_DOCS.keys())
def test_html_round_trip_keeps_every_tag_and_attribute(
    engine: TranslationEngine, html: str
) -> None:
    (result,) = translate(engine, [html], TextFeatures(mime_type="text/html"))
    source, output = parse(html), parse(result.text)
    assert output.errors == [], result.text
    assert output.stack == [] or output.stack == source.stack, result.text
    for tag in source.tags:
        assert output.tags[tag] >= 1, (tag, result.text)


def test_skipped_elements_are_byte_identical(engine: TranslationEngine) -> None:
    html = HTML_DOCS["skipped"] + HTML_DOCS["translate-no"]
    (result,) = translate(engine, [html], TextFeatures(mime_type="text/html"))
    kept = [
        "<code>x &lt; y</code>",
        "<kbd>Ctrl</kbd>",
        "<pre>keep  me\n</pre>",
        '<div translate="no">a <b>b</b></div>',
        '<p class="note notranslate">keep</p>',
    ]
    assert all(k in result.text for k in kept), result.text


BROKEN_MARKUP = {
    "stray-end": ("The cat</i> sees.", "closes no open element"),
    "misnested": ("<b><i>The cat</b></i>", "misnested markup"),
    "unclosed-code": ("<p>Use <code>x + y</p>", "never closed"),
}


@pytest.mark.parametrize("html, message", BROKEN_MARKUP.values(), ids=BROKEN_MARKUP.keys())
def test_broken_markup_is_an_invalid_argument(
    engine: TranslationEngine, html: str, message: str
) -> None:
    with pytest.raises(InvalidOption, match=message):
        translate(engine, [html], TextFeatures(mime_type="text/html"))


def test_unknown_mime_type_is_an_invalid_argument() -> None:
    with pytest.raises(InvalidOption, match="text/html"):
        TextFeatures(mime_type="application/pdf")


def test_tags_follow_the_aligned_words(tiny_nllb_dir: object) -> None:
    """Exact placement, with a hand-written hypothesis: "big red" -> "rouge grand"."""
    from pathlib import Path

    tokenizer = SentencePieceTokenizer(Path(str(tiny_nllb_dir)) / "sentencepiece.bpe.model")
    source = "<b>big</b> <i>red</i>"
    plan = TextPreparer(tokenizer).prepare(source, TextFeatures(mime_type="text/html"))
    (sentence,) = plan.todo
    assert sentence.needs_attention()
    source_pieces = tokenizer.encode("big") + tokenizer.encode("red")
    assert sentence.pieces == source_pieces
    n_big = len(tokenizer.encode("big"))
    rouge, grand = tokenizer.encode("rouge"), tokenizer.encode("grand")
    target = rouge + grand
    red_row = tuple(0.0 if i < n_big else 1.0 for i in range(len(source_pieces)))
    big_row = tuple(1.0 if i < n_big else 0.0 for i in range(len(source_pieces)))
    # "rouge" attends to the pieces of "red", "grand" to those of "big"
    rows = (red_row,) * len(rouge) + (big_row,) * len(grand)
    hypothesis = AlignedHypothesis.from_attention(target, rows, -0.5)
    assert plan.render([hypothesis], tokenizer) == "<i>rouge</i> <b>grand</b>"
