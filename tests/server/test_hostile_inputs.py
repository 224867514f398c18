"""Hostile inputs over every RPC: each call gets its canonical status code and a message
that says what to fix, and afterwards the server is still SERVING, the circuit breaker
is still closed and a plain translation still works.

One table per RPC (ids name the attack); `Call` says what is sent and what must come
back. Streams can idle (`IDLE`: the client stops sending, without closing), so the
server here waits `RECEIVE_S` for a message instead of its default 15/60 s.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from dragoman.engine.breaker import BreakerState
from dragoman.server.app import App
from grpc_health.v1 import health_pb2

from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc

INVALID = grpc.StatusCode.INVALID_ARGUMENT
OK = grpc.StatusCode.OK
RECEIVE_S = 2.0
SERVICE = "/dragoman.translation.v1.TranslationService/"
#: In a stream's messages: stop sending (without closing) until the test ends.
IDLE = object()


@dataclass(frozen=True)
class Call:
    """One hostile call and what the server must answer.

    Attributes:
        rpc: The TranslationService method (or a full `/pkg.Service/Method`).
        request: The request message; a list of messages (and `IDLE`) for a stream;
            bytes are sent as they are (not a valid message, usually).
        code: The status code the call must end with.
        says: Fragments its details must contain.
        metadata: Request metadata.
        keeps: Fragments every translation must contain (for OK calls).
    """

    rpc: str
    request: Any
    code: grpc.StatusCode = INVALID
    says: tuple[str, ...] = ()
    metadata: tuple[tuple[str, str | bytes], ...] = ()
    keeps: tuple[str, ...] = ()


def translate(*contents: str, target: str = "fr", **fields: Any) -> pb.TranslateTextRequest:
    options = fields.pop("options", {})
    glossary = fields.pop("glossary", None)
    request = pb.TranslateTextRequest(
        contents=list(contents),
        target_language_code=target,
        options=pb.TranslationOptions(**options),
        **fields,
    )
    if glossary is not None:
        request.glossary_config.CopyFrom(glossary)
    return request


def glossary(*pairs: tuple[str, str], name: str = "") -> pb.TranslationGlossaryConfig:
    entries = [pb.GlossaryEntry(source_term=s, target_term=t) for s, t in pairs]
    return pb.TranslationGlossaryConfig(glossary=name, entries=entries)


def html(*contents: str) -> pb.TranslateTextRequest:
    return translate(*contents, mime_type="text/html")


TRANSLATE: dict[str, Call] = {
    # limits and languages
    "empty-contents": Call("TranslateText", translate(), says=("contents is empty",)),
    "empty-string": Call("TranslateText", translate("Hello.", ""), says=("contents[1] is empty",)),
    "10000-contents": Call("TranslateText", translate(*["Hi."] * 10_000), says=("10,000 texts",)),
    "1024-contents": Call("TranslateText", translate(*["Hi."] * 1024), OK),
    "5MB-string": Call("TranslateText", translate("a" * 5_000_000), says=("5,000,000 characters",)),
    "100001-chars": Call("TranslateText", translate("a" * 100_001), says=("100,001",)),
    "nul-byte": Call("TranslateText", translate("Hello\x00world."), says=("NUL character",)),
    "missing-target": Call("TranslateText", translate("Hi.", target=""), says=("is required",)),
    "invalid-target": Call(
        "TranslateText", translate("Hi.", target="xx-Nope"), says=("'xx-Nope'",)
    ),
    "invalid-source": Call(
        "TranslateText", translate("Hi.", source_language_code="klingon"), says=("'klingon'",)
    ),
    "huge-target-code": Call(
        "TranslateText", translate("Hi.", target="x" * 100_000), says=("100,000",)
    ),
    "huge-model-name": Call(
        "TranslateText", translate("Hi.", model="m" * 1000), says=("plausible",)
    ),
    "unknown-model": Call(
        "TranslateText", translate("Hi.", model="gpt-9"), grpc.StatusCode.NOT_FOUND, ("'gpt-9'",)
    ),
    "private-use-subtags": Call(
        "TranslateText",
        translate("Hi.", target="fr-x00001", source_language_code="en-x00001"),
        OK,
    ),
    # decoding options
    "beam-size-10**6": Call(
        "TranslateText", translate("Hi.", options={"beam_size": 10**6}), says=("beam_size",)
    ),
    "negative-beam": Call(
        "TranslateText", translate("Hi.", options={"beam_size": -1}), says=("beam_size",)
    ),
    "negative-max-output": Call(
        "TranslateText",
        translate("Hi.", options={"max_output_tokens": -5}),
        says=("max_output_tokens",),
    ),
    "max-output-10**9": Call(
        "TranslateText",
        translate("Hi.", options={"max_output_tokens": 10**9}),
        says=("max_output_tokens",),
    ),
    "negative-ngram": Call(
        "TranslateText", translate("Hi.", options={"no_repeat_ngram_size": -1}), says=("no_repeat",)
    ),
    "huge-alternatives": Call(
        "TranslateText",
        translate("Hi.", options={"num_alternatives": 99}),
        says=("num_alternatives",),
    ),
    "nan-penalty": Call(
        "TranslateText",
        translate("Hi.", options={"repetition_penalty": float("nan")}),
        says=("nan",),
    ),
    "inf-length-penalty": Call(
        "TranslateText",
        translate("Hi.", options={"length_penalty": float("inf")}),
        says=("length",),
    ),
    "unknown-quality": Call(
        "TranslateText", translate("Hi.", options={"quality": 42}), says=("QUALITY",)
    ),
    "alternatives-widen-beam": Call(
        "TranslateText", translate("Hi.", options={"beam_size": 1, "num_alternatives": 3}), OK
    ),
    # text that is odd but valid
    "control-characters": Call("TranslateText", translate("Hi \x01\x07\x1b[31m there.\x7f"), OK),
    "bidi-overrides": Call("TranslateText", translate("abc \u202edcba\u202c \u2066x\u2069."), OK),
    "emoji-zwj": Call("TranslateText", translate("👩‍👩‍👧‍👦 and 🏳️‍🌈!"), OK),
    "only-whitespace": Call("TranslateText", translate(" \t\n "), OK),
    "combining-marks": Call("TranslateText", translate("a" + "\u0301" * 5000), OK),
    "one-long-word": Call("TranslateText", translate("x" * 20_000), OK),
    # placeholders
    "stray-brace": Call(
        "TranslateText",
        translate("Use { to open. Hello {name}, you have %d birds."),
        OK,
        keeps=("{name}", "%d"),
    ),
    "brace-soup": Call("TranslateText", translate("{" * 3000 + "x" + "}" * 3000), OK),
    "close-open-braces": Call("TranslateText", translate("}{" * 5000), OK),
    "printf-soup": Call("TranslateText", translate("%s %d %(x)s %1$s %% " * 500), OK),
    # markup
    "html-marked-section": Call("TranslateText", html("a <![x[y]]> b"), says=("`<![x[`",)),
    "html-unclosed-comment": Call("TranslateText", html("a <!-- b"), says=("comment `<!--`",)),
    "html-unclosed-tag": Call("TranslateText", html("Hi <b class='x"), says=("tag `<b`",)),
    "html-misnested": Call("TranslateText", html("<b><i>The cat</b></i>"), says=("misnested",)),
    "html-closes-nothing": Call("TranslateText", html("x</b>"), says=("closes no open element",)),
    "html-unclosed-code": Call("TranslateText", html("<code>x"), says=("never closed",)),
    "html-101-deep": Call("TranslateText", html("<b>" * 101 + "x" + "</b>" * 101), says=("deep",)),
    "html-100k-comment-openers": Call("TranslateText", html("<!--" * 25_000), says=("`<!--`",)),
    "html-100k-tag-openers": Call("TranslateText", html("<a" * 50_000), says=("`<a`",)),
    "html-deep-blocks": Call("TranslateText", html("<div>" * 3000 + "Hi." + "</div>" * 3000), OK),
    "html-4000-tags": Call(
        "TranslateText",
        html("<p>" + "".join(f'<a href="/{i}">w</a> ' for i in range(4000)) + "</p>"),
        OK,
    ),
    "html-entities": Call("TranslateText", html("&amp;&lt;&#x1F600;&#0;&#xFFFFFFFF;&bogus;"), OK),
    "unknown-mime": Call(
        "TranslateText", translate("Hi.", mime_type="image/png"), says=("mime_type",)
    ),
    # glossaries and do-not-translate
    "glossary-10001-entries": Call(
        "TranslateText",
        translate("Hi.", glossary=glossary(*[(f"t{i}", "x") for i in range(10_001)])),
        says=("10000",),
    ),
    "glossary-empty-source": Call(
        "TranslateText", translate("Hi.", glossary=glossary(("", "x"))), says=("empty source term",)
    ),
    "glossary-conflict": Call(
        "TranslateText", translate("Hi.", glossary=glossary(("a", "b"), ("a", "c"))), says=("two",)
    ),
    "glossary-bad-name": Call(
        "TranslateText",
        translate("Hi.", glossary=glossary(name="../etc/passwd")),
        says=("glossary",),
    ),
    "glossary-unknown-name": Call(
        "TranslateText", translate("Hi.", glossary=glossary(name="nope")), says=("glossary",)
    ),
    # feature-path sizes: linear preparation, bounded by the request limits
    "placeholders-49k": Call("TranslateText", translate("A {x}. " * 7000), OK, keeps=("{x}",)),
    "glossary-10000-entries": Call(
        "TranslateText",
        translate(
            "term1 and term9999.", glossary=glossary(*[(f"term{i}", "x") for i in range(10_000)])
        ),
        OK,
    ),
    "dnt-10000": Call(
        "TranslateText", translate("t1 t2.", do_not_translate=[f"t{i}" for i in range(10_000)]), OK
    ),
    "dnt-blank": Call(
        "TranslateText", translate("Hi.", do_not_translate=[" "]), says=("do_not_translate",)
    ),
    "dnt-10001": Call(
        "TranslateText",
        translate("Hi.", do_not_translate=[f"t{i}" for i in range(10_001)]),
        says=("do_not_translate",),
    ),
}

DETECT: dict[str, Call] = {
    "empty": Call("DetectLanguage", pb.DetectLanguageRequest(), says=("contents is empty",)),
    "10000-contents": Call(
        "DetectLanguage", pb.DetectLanguageRequest(contents=["a"] * 10_000), says=("10,000",)
    ),
    "nul": Call("DetectLanguage", pb.DetectLanguageRequest(contents=["a\x00"]), says=("NUL",)),
    "max-candidates-11": Call(
        "DetectLanguage",
        pb.DetectLanguageRequest(contents=["a"], max_candidates=11),
        says=("1 to 10",),
    ),
    "max-candidates-negative": Call(
        "DetectLanguage",
        pb.DetectLanguageRequest(contents=["a"], max_candidates=-1),
        says=("1 to 10",),
    ),
    "unknown-model": Call(
        "DetectLanguage",
        pb.DetectLanguageRequest(contents=["a"], model="gpt-9"),
        grpc.StatusCode.NOT_FOUND,
        ("'gpt-9'",),
    ),
    "huge-model-name": Call(
        "DetectLanguage",
        pb.DetectLanguageRequest(contents=["a"], model="m" * 500),
        says=("plausible",),
    ),
    "1M-chars": Call(
        "DetectLanguage",
        pb.DetectLanguageRequest(contents=["The cat sees the dog. " * 4545] * 10),
        OK,
    ),
    "over-1M-chars": Call(
        "DetectLanguage",
        pb.DetectLanguageRequest(contents=["a" * 100_000] * 11),
        says=("1,100,000",),
    ),
    "markup-and-controls": Call(
        "DetectLanguage", pb.DetectLanguageRequest(contents=["<b>\x01\u202e</b>", "{}%s"]), OK
    ),
}

CATALOGUE: dict[str, Call] = {
    "languages-unknown-model": Call(
        "ListLanguages",
        pb.ListLanguagesRequest(model="gpt-9"),
        grpc.StatusCode.NOT_FOUND,
        ("nllb",),
    ),
    "languages-huge-name": Call(
        "ListLanguages", pb.ListLanguagesRequest(model="m" * 500), says=("plausible",)
    ),
    "languages-nul-name": Call(
        "ListLanguages", pb.ListLanguagesRequest(model="a\x00b"), says=("plausible",)
    ),
    "languages-default": Call("ListLanguages", pb.ListLanguagesRequest(), OK),
    "models": Call("ListModels", pb.ListModelsRequest(), OK),
}


def _config(**fields: Any) -> pb.StreamTranslateTextRequest:
    return pb.StreamTranslateTextRequest(config=pb.StreamingTranslationConfig(**fields))


def _segment(segment_id: str, text: str) -> pb.StreamTranslateTextRequest:
    return pb.StreamTranslateTextRequest(
        segment=pb.TranslationSegment(segment_id=segment_id, text=text)
    )


FR = _config(target_language_code="fr")
INTERIM = _config(
    target_language_code="fr",
    interim_results=True,
    options=pb.TranslationOptions(quality=pb.QUALITY_FAST),
)

STREAM: dict[str, Call] = {
    "segment-first": Call("StreamTranslateText", [_segment("a", "Hi.")], says=("first message",)),
    "no-messages": Call("StreamTranslateText", [], says=("got nothing",)),
    "config-twice": Call("StreamTranslateText", [FR, FR], says=("only the first",)),
    "missing-target": Call(
        "StreamTranslateText", [_config(), _segment("a", "Hi.")], says=("target",)
    ),
    "invalid-target": Call(
        "StreamTranslateText",
        [_config(target_language_code="xx"), _segment("a", "Hi.")],
        says=("'xx'",),
    ),
    "unknown-model": Call(
        "StreamTranslateText",
        [_config(target_language_code="fr", model="gpt-9"), _segment("a", "Hi.")],
        grpc.StatusCode.NOT_FOUND,
        ("'gpt-9'",),
    ),
    "empty-segment": Call("StreamTranslateText", [FR, _segment("s7", "")], says=("'s7'",)),
    "nul-segment": Call("StreamTranslateText", [FR, _segment("", "a\x00")], says=("NUL",)),
    "100001-char-segment": Call(
        "StreamTranslateText", [FR, _segment("", "a" * 100_001)], says=("100,001",)
    ),
    "bad-options": Call(
        "StreamTranslateText",
        [_config(target_language_code="fr", options=pb.TranslationOptions(beam_size=-3))],
        says=("beam_size",),
    ),
    "broken-markup": Call(
        "StreamTranslateText",
        [_config(target_language_code="fr", mime_type="text/html"), _segment("", "<![x[y]]>")],
        says=("`<![x[`",),
    ),
    "bad-glossary": Call(
        "StreamTranslateText",
        [
            pb.StreamTranslateTextRequest(
                config=pb.StreamingTranslationConfig(
                    target_language_code="fr", glossary_config=glossary(("", "x"))
                )
            ),
            _segment("a", "Hi."),
        ],
        says=("empty source term",),
    ),
    "never-sends-config": Call(
        "StreamTranslateText", [IDLE], grpc.StatusCode.DEADLINE_EXCEEDED, ("no request message",)
    ),
    "idle-after-config": Call(
        "StreamTranslateText", [FR, IDLE], grpc.StatusCode.DEADLINE_EXCEEDED, ("sent nothing for",)
    ),
    "idle-after-segment": Call(
        "StreamTranslateText",
        [FR, _segment("a", "Hi."), IDLE],
        grpc.StatusCode.DEADLINE_EXCEEDED,
        ("sent nothing for",),
    ),
    "flood-interim-200": Call(
        "StreamTranslateText",
        [INTERIM, *[_segment(str(i), "The small dog walks near the river.") for i in range(200)]],
        OK,
    ),
    "interim-long-segment": Call(
        "StreamTranslateText",
        [INTERIM, _segment("long", " ".join(["The small dog walks near the river."] * 50))],
        OK,
    ),
    "huge-segment-id": Call("StreamTranslateText", [FR, _segment("i" * 10_000, "Hi.")], OK),
    "1000-tiny-segments": Call(
        "StreamTranslateText", [FR, *[_segment(str(i), "a") for i in range(1000)]], OK
    ),
}


def document(
    content: bytes, mime: str = "text/plain", **fields: Any
) -> pb.TranslateDocumentRequest:
    fields.setdefault("target_language_code", "fr")
    return pb.TranslateDocumentRequest(
        document=pb.Document(content=content, mime_type=mime, file_name="x"), **fields
    )


DOCUMENTS: dict[str, Call] = {
    "empty-document": Call("TranslateDocument", document(b""), says=("empty",)),
    "unknown-format": Call(
        "TranslateDocument", document(b"x", "application/x-nope"), says=("format",)
    ),
    "not-utf8-text": Call("TranslateDocument", document(b"\xff\xfe\x00bad"), says=("UTF-8",)),
    "missing-target": Call(
        "TranslateDocument", document(b"Hi.", target_language_code=""), says=("required",)
    ),
    "broken-html": Call(
        "TranslateDocument", document(b"<![x[y]]>", "text/html"), says=("`<![x[`",)
    ),
    "plain-ok": Call("TranslateDocument", document(b"The cat walks.\n\nThe dog eats.\n"), OK),
    "stream-empty": Call(
        "StreamTranslateDocument",
        pb.StreamTranslateDocumentRequest(request=document(b"")),
        says=("empty",),
    ),
    "stream-ok": Call(
        "StreamTranslateDocument",
        pb.StreamTranslateDocumentRequest(request=document(b"The cat walks.\n")),
        OK,
    ),
}

PLAIN = translate("The cat walks.")

METADATA: dict[str, Call] = {
    "authorization-20KB": Call(
        "TranslateText",
        PLAIN,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        ("metadata size",),
        metadata=(("authorization", "Bearer " + "x" * 20_000),),
    ),
    "500-headers": Call(
        "TranslateText",
        PLAIN,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        metadata=tuple((f"x-h{i}", "v") for i in range(500)),
    ),
    "7KB-header": Call("TranslateText", PLAIN, OK, metadata=(("x-big", "v" * 7000),)),
    "binary-header": Call(
        "TranslateText", PLAIN, OK, metadata=(("x-data-bin", b"\x00\xff" * 200),)
    ),
    "bad-request-id": Call("TranslateText", PLAIN, OK, metadata=(("x-request-id", "a b;c"),)),
    "1000-char-request-id": Call(
        "TranslateText", PLAIN, OK, metadata=(("x-request-id", "a" * 1000),)
    ),
    "basic-scheme": Call("TranslateText", PLAIN, OK, metadata=(("authorization", "Basic YTpi"),)),
    "two-authorizations": Call(
        "TranslateText",
        PLAIN,
        OK,
        metadata=(("authorization", "Bearer a"), ("authorization", "Bearer b")),
    ),
    "unknown-key-keys-optional": Call(
        "TranslateText", PLAIN, OK, metadata=(("authorization", "Bearer dgm_0_nope"),)
    ),
}

#: Field 1, length-delimited, with a length running past the end: never a valid message.
GARBAGE = b"\x0a\xff\xff\xff\xff\x0f"
_RAW_METHODS = [
    "TranslateText",
    "StreamTranslateText",
    "DetectLanguage",
    "ListLanguages",
    "ListModels",
    "TranslateDocument",
    "StreamTranslateDocument",
    "/grpc.health.v1.Health/Check",
]
MALFORMED: dict[str, Call] = {
    f"garbage-{name.rsplit('/', 1)[-1]}": Call(name, GARBAGE, says=("is not a valid",))
    for name in _RAW_METHODS
}
MALFORMED["invalid-utf8-string"] = Call(
    "TranslateText", b"\x0a\x02\xff\xfe\x1a\x02fr", says=("TranslateTextRequest",)
)

CASES: dict[str, Call] = {
    **{f"translate/{k}": v for k, v in TRANSLATE.items()},
    **{f"detect/{k}": v for k, v in DETECT.items()},
    **{f"catalogue/{k}": v for k, v in CATALOGUE.items()},
    **{f"stream/{k}": v for k, v in STREAM.items()},
    **{f"document/{k}": v for k, v in DOCUMENTS.items()},
    **{f"metadata/{k}": v for k, v in METADATA.items()},
    **{f"bytes/{k}": v for k, v in MALFORMED.items()},
}

_STREAMING_REQUEST = {"StreamTranslateText"}
_STREAMING_RESPONSE = {"StreamTranslateText", "StreamTranslateDocument"}


@dataclass
class Outcome:
    code: grpc.StatusCode
    details: str
    responses: list[Any] = field(default_factory=list)


def _messages(items: list[Any], release: threading.Event) -> Iterator[Any]:
    for item in items:
        if item is IDLE:
            release.wait(120)
            return
        yield item


def send(channel: grpc.Channel, call: Call, release: threading.Event) -> Outcome:
    """Makes the call; its status and responses."""
    method = call.rpc if call.rpc.startswith("/") else SERVICE + call.rpc
    name = method.rsplit("/", 1)[-1]
    streaming_request = name in _STREAMING_REQUEST
    streaming_response = name in _STREAMING_RESPONSE
    raw = isinstance(call.request, bytes)
    serializer = None if raw else (lambda message: message.SerializeToString())
    kinds = {
        (False, False): channel.unary_unary,
        (False, True): channel.unary_stream,
        (True, True): channel.stream_stream,
    }
    invoke = kinds[(streaming_request, streaming_response)](method, request_serializer=serializer)
    request = call.request
    if streaming_request:
        request = iter([request]) if raw else _messages(request, release)
    try:
        result = invoke(request, timeout=120, metadata=call.metadata or None)
        responses = list(result) if streaming_response else [result]
        return Outcome(OK, "", responses)
    except grpc.RpcError as error:
        return Outcome(error.code(), error.details() or "")  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def app(server_factory: Callable[..., App]) -> App:
    """The module's server: short receive timeouts, so idle streams end quickly; no
    translation cache, so no case depends on what an earlier one translated."""
    return server_factory(
        connections={"receive_timeout_s": RECEIVE_S, "stream_idle_timeout_s": RECEIVE_S},
        cache={"enabled": False},
    )


def _translations(outcome: Outcome) -> list[str]:
    texts = []
    for response in outcome.responses:
        if isinstance(response, bytes):
            response = pb.TranslateTextResponse.FromString(response)
        texts += [t.translated_text for t in getattr(response, "translations", [])]
    return texts


@pytest.mark.parametrize("call", CASES.values(), ids=CASES.keys())
def test_hostile_call(app: App, channel: grpc.Channel, call: Call) -> None:
    release = threading.Event()
    try:
        outcome = send(channel, call, release)
    finally:
        release.set()
    assert outcome.code == call.code, outcome.details
    for fragment in call.says:
        assert fragment in outcome.details
    for fragment in call.keeps:
        assert all(fragment in text for text in _translations(outcome)), outcome.responses
    # The server shrugs it off: SERVING, breaker closed, and it still translates.
    health = channel.unary_unary(
        "/grpc.health.v1.Health/Check",
        request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
        response_deserializer=health_pb2.HealthCheckResponse.FromString,
    )(health_pb2.HealthCheckRequest(), timeout=30)
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    assert app.engine.breaker is not None and app.engine.breaker.state is BreakerState.CLOSED
    stub = pb_grpc.TranslationServiceStub(channel)
    assert stub.TranslateText(translate("Hi."), timeout=60).translations


def test_there_are_at_least_100_hostile_calls() -> None:
    assert len(CASES) >= 100


def test_deadline_of_1ms(stub: pb_grpc.TranslationServiceStub) -> None:
    text = " ".join(["The small dog walks near the river."] * 20)
    request = pb.TranslateTextRequest(contents=[text], target_language_code="fr")
    with pytest.raises(grpc.RpcError) as caught:
        stub.TranslateText(request, timeout=0.001)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED  # type: ignore[attr-defined]


def test_too_short_deadline_is_refused_at_once(
    server_factory: Callable[..., App],
) -> None:
    # The server refuses work it cannot finish in time: with a minimum of 60 s, a
    # 30 s deadline is refused before anything is queued.
    app = server_factory(limits={"min_deadline_ms": 60_000})
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        stub = pb_grpc.TranslationServiceStub(channel)
        request = pb.TranslateTextRequest(contents=["Hi."], target_language_code="fr")
        with pytest.raises(grpc.RpcError) as caught:
            stub.TranslateText(request, timeout=30)
        error: Any = caught.value
        assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert "allow at least 60000 ms" in error.details()
        warmups = len(app.settings.models)
        assert app.engine.stats.requests == warmups  # nothing but the warm-ups ran
        assert stub.TranslateText(request).translations  # no deadline: served


def test_client_cancels_mid_stream(
    app: App,
    stub: pb_grpc.TranslationServiceStub,
    health_stub: object,
    check_health: Callable[..., str],
) -> None:
    more = threading.Event()

    def requests() -> Iterator[pb.StreamTranslateTextRequest]:
        yield INTERIM
        yield _segment("long", " ".join(["The small dog walks near the river."] * 30))
        more.wait(60)  # keep the stream open until the test is done with it

    call = stub.StreamTranslateText(requests(), timeout=120)
    first = next(call)
    assert first.segment_id == "long" and not first.is_final
    call.cancel()
    with pytest.raises(grpc.RpcError) as caught:
        list(call)
    more.set()
    assert caught.value.code() == grpc.StatusCode.CANCELLED  # type: ignore[attr-defined]
    # The server notices and frees the RPC; bounded wait, no timing assertion.
    for _ in range(1200):
        if app.gate.in_flight == 0:
            break
        threading.Event().wait(0.05)
    assert app.gate.in_flight == 0
    assert check_health(health_stub) == "SERVING"
    ok = stub.TranslateText(pb.TranslateTextRequest(contents=["Hi."], target_language_code="fr"))
    assert len(ok.translations) == 1


def test_interim_updates_do_not_resend_finished_sentences(
    stub: pb_grpc.TranslationServiceStub,
) -> None:
    # Bytes sent per byte of translation stay the same however many sentences a segment
    # has: resending every finished sentence with each token grew them with the length.
    def bytes_per_byte(sentences: int) -> float:
        text = " ".join(["The small dog walks near the river."] * sentences)
        updates = list(stub.StreamTranslateText(iter([INTERIM, _segment("s", text)]), timeout=300))
        final = next(u for u in updates if u.is_final)
        return sum(len(u.translated_text) for u in updates) / max(len(final.translated_text), 1)

    few, many = bytes_per_byte(5), bytes_per_byte(40)
    assert many <= 1.5 * few, (few, many)
