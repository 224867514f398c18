"""Property-based fuzzing of TranslateText and StreamTranslateText against a live server.

Random contents (any Unicode, control characters, markup fragments, placeholder soup,
URLs), options (in and out of their bounds, NaN), features (mime types, glossaries,
do-not-translate terms) and language codes. Whatever is sent, the server answers
before the deadline with OK or a canonical code that names the caller's mistake, never
UNKNOWN or INTERNAL, and stays SERVING with its breaker closed.

CI runs a fixed seed and a bounded number of examples; `bench/fuzz.py` runs many more
with random seeds (DRAGOMAN_FUZZ_EXAMPLES, DRAGOMAN_FUZZ_RANDOM).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from dragoman.engine.breaker import BreakerState
from dragoman.server.app import App
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc

EXAMPLES = int(os.environ.get("DRAGOMAN_FUZZ_EXAMPLES", "60"))
DEADLINE_S = 60.0
#: Codes that would mean the server broke (or hung) on an input.
NEVER = {
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.UNAVAILABLE,
}
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=not os.environ.get("DRAGOMAN_FUZZ_RANDOM"),  # fixed seed in CI
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)

FRAGMENTS = [
    # markup
    "<b>", "</b>", "<i>", "</i>", "<br/>", "<p>", "</p>", "<a href='x'>", "</a>", "<code>",
    "</code>", "<!--", "-->", "<![CDATA[", "]]>", "<![x[", "<!DOCTYPE html>", "<?pi ?>", "<",
    ">", "&amp;", "&#x1F600;", "&bogus;", '<span class="notranslate">', "</span>",
    # placeholders
    "{", "}", "{name}", "{{var}}", "${HOME}", "{n, plural, one {# a} other {# b}}", "%s",
    "%d", "%(x)s", "%1$s", "%%", "`code`", "```",
    # links and text
    "https://example.com/a?b=1", "www.example.org", "a.b@example.com", "The cat walks.",
    "Hello world.", " ", "\n", "\t", ". ", "!", "?",
    # awkward characters
    "\x01", "\x1b[31m", "\x7f", "\u202e", "\u200d", "\u0301", "\ufeff", "👩‍👩‍👧",
]  # fmt: skip


texts = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), min_size=1, max_size=25
).map("".join)
CODES = ["fr", "fra_Latn", "en", "eng_Latn", "de", "ru", "zh-Hant", "en-x00001"]
floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, 1.0]))
terms = st.text(alphabet="abcdefghij xyz", min_size=1, max_size=12).map(str.strip).filter(bool)
valid_options = st.builds(
    pb.TranslationOptions,
    quality=st.integers(0, 3),
    beam_size=st.integers(0, 4),
    num_alternatives=st.integers(0, 2),
    return_scores=st.booleans(),
    max_output_tokens=st.one_of(st.just(0), st.integers(1, 64)),
    no_repeat_ngram_size=st.integers(0, 3),
)
wild_options = st.builds(
    pb.TranslationOptions,
    quality=st.integers(-1, 9),
    beam_size=st.integers(-2, 20),
    num_alternatives=st.integers(-1, 10),
    max_output_tokens=st.integers(-2, 2000),
    repetition_penalty=floats,
    no_repeat_ngram_size=st.integers(-1, 40),
    length_penalty=floats,
)
#: What a request may get wrong: at most one thing, so that valid requests (about half,
#: None) reach the model and each kind of mistake is met on its own. All-random requests
#: would all stop at the first check.
BREAKAGES = [None] * 8 + [
    "no-contents",
    "nul",
    "target",
    "source",
    "options",
    "mime",
    "glossary",
    "dnt",
]


@st.composite
def features(draw: st.DrawFn, broken: str | None) -> dict[str, Any]:
    """mime_type, glossary and do-not-translate fields of a request or stream config."""
    glossary_terms = texts if broken == "glossary" else terms
    entries = st.builds(pb.GlossaryEntry, source_term=glossary_terms, target_term=glossary_terms)
    mime = ["text/xml", "image/png"] if broken == "mime" else ["", "text/plain", "text/html"]
    return {
        "mime_type": draw(st.sampled_from(mime)),
        "glossary_config": pb.TranslationGlossaryConfig(
            entries=draw(st.lists(entries, max_size=4))
        ),
        "do_not_translate": draw(st.lists(texts if broken == "dnt" else terms, max_size=3)),
        "options": draw(wild_options if broken == "options" else valid_options),
        "source_language_code": draw(st.text(max_size=10))
        if broken == "source"
        else draw(st.sampled_from(["", *CODES])),
        "target_language_code": draw(st.text(max_size=10))
        if broken == "target"
        else draw(st.sampled_from(CODES)),
    }


@st.composite
def text_lists(draw: st.DrawFn, broken: str | None) -> list[str]:
    if broken == "no-contents":
        return []
    found = draw(st.lists(texts, min_size=1, max_size=4))
    if broken == "nul":
        index = draw(st.integers(0, len(found) - 1))
        found[index] = found[index][:3] + "\x00" + found[index][3:]
    return found


@st.composite
def translate_requests(draw: st.DrawFn) -> pb.TranslateTextRequest:
    broken = draw(st.sampled_from(BREAKAGES))
    return pb.TranslateTextRequest(
        contents=draw(text_lists(broken)),
        disable_placeholder_protection=draw(st.booleans()),
        **draw(features(broken)),
    )


@st.composite
def stream_messages(draw: st.DrawFn) -> list[pb.StreamTranslateTextRequest]:
    broken = draw(st.sampled_from([*BREAKAGES, "no-config"]))
    interim = draw(st.booleans())
    config = pb.StreamingTranslationConfig(interim_results=interim, **draw(features(broken)))
    if interim and broken != "options":  # interim results need greedy decoding
        config.options.beam_size, config.options.num_alternatives = 1, 0
    segments = [
        pb.StreamTranslateTextRequest(
            segment=pb.TranslationSegment(segment_id=draw(st.text(max_size=8)), text=text)
        )
        for text in draw(text_lists(broken))
    ]
    first = [] if broken == "no-config" else [pb.StreamTranslateTextRequest(config=config)]
    return first + segments


def _outcome(call: Callable[[], Any]) -> tuple[grpc.StatusCode, str]:
    try:
        call()
        return grpc.StatusCode.OK, ""
    except grpc.RpcError as error:
        return error.code(), error.details() or ""


def _still_fine(app: App, stub: pb_grpc.TranslationServiceStub) -> None:
    health = app.health.status
    assert health == "SERVING"
    assert app.engine.breaker is not None and app.engine.breaker.state is BreakerState.CLOSED
    request = pb.TranslateTextRequest(contents=["Hi."], target_language_code="fr")
    assert stub.TranslateText(request, timeout=DEADLINE_S).translations


@pytest.mark.timeout(max(900, EXAMPLES * 3))
def test_translate_text_never_breaks(app: App, stub: pb_grpc.TranslationServiceStub) -> None:
    seen: Counter[str] = Counter()
    why: Counter[str] = Counter()

    @FUZZ
    @given(request=translate_requests())
    def answers_sanely(request: pb.TranslateTextRequest) -> None:
        code, details = _outcome(lambda: stub.TranslateText(request, timeout=DEADLINE_S))
        seen[code.name] += 1
        why[details.split(":")[0][:40]] += bool(details)
        assert code not in NEVER, (code, details)
        if code is not grpc.StatusCode.OK:
            assert details, "an error must say what to fix"

    answers_sanely()
    print(f"TranslateText: {sum(seen.values())} calls, {dict(seen)}; {why.most_common(6)}")
    _still_fine(app, stub)


@pytest.mark.timeout(max(900, EXAMPLES * 3))
def test_stream_translate_text_never_breaks(app: App, stub: pb_grpc.TranslationServiceStub) -> None:
    seen: Counter[str] = Counter()
    why: Counter[str] = Counter()

    @FUZZ
    @given(messages=stream_messages())
    def answers_sanely(messages: list[pb.StreamTranslateTextRequest]) -> None:
        responses: list[pb.StreamTranslateTextResponse] = []

        def call() -> None:
            requests: Iterator[pb.StreamTranslateTextRequest] = iter(messages)
            responses.extend(stub.StreamTranslateText(requests, timeout=DEADLINE_S))

        code, details = _outcome(call)
        seen[code.name] += 1
        why[details.split(":")[0][:40]] += bool(details)
        assert code not in NEVER, (code, details)
        if code is grpc.StatusCode.OK:
            # One final result per segment, in order of the segments sent.
            finals = [r.segment_id for r in responses if r.is_final]
            sent = [m.segment.segment_id for m in messages if m.HasField("segment")]
            assert finals == sent
        else:
            assert details, "an error must say what to fix"

    answers_sanely()
    print(f"StreamTranslateText: {sum(seen.values())} calls, {dict(seen)}; {why.most_common(6)}")
    _still_fine(app, stub)
