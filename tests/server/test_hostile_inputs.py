"""Hostile inputs: each gets its canonical status code and a message that says what to
fix, and the server stays SERVING afterwards."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from dragoman.server.app import App

from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc

INVALID = grpc.StatusCode.INVALID_ARGUMENT


@dataclass(frozen=True)
class Case:
    """One hostile TranslateText request and what the server must answer."""

    contents: list[str] = field(default_factory=lambda: ["The cat walks."])
    target: str = "fr"
    source: str = "en"
    model: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    code: grpc.StatusCode = INVALID
    says: tuple[str, ...] = ()


CASES: dict[str, Case] = {
    "empty-contents": Case(contents=[], says=("contents is empty", "at least one text")),
    "empty-string": Case(contents=["Hello.", ""], says=("contents[1] is empty",)),
    "10000-contents": Case(contents=["Hi."] * 10_000, says=("10,000 texts", "limit is 1,024")),
    "5MB-string": Case(contents=["a" * 5_000_000], says=("5,000,000 characters", "several")),
    "nul-byte": Case(contents=["Hello\x00world."], says=("NUL character at offset 5",)),
    "missing-target": Case(target="", says=("target_language_code is required",)),
    "invalid-target": Case(target="xx-Nope", says=("'xx-Nope'", "fra_Latn")),
    "invalid-source": Case(source="klingon", says=("'klingon'", "eng_Latn")),
    "huge-target-code": Case(target="x" * 100_000, says=("target_language_code", "100,000")),
    "huge-model-name": Case(model="m" * 1000, says=("model is not a plausible name",)),
    "unknown-model": Case(
        model="gpt-9", code=grpc.StatusCode.NOT_FOUND, says=("'gpt-9'", "m2m100, nllb")
    ),
    "beam-size-10**6": Case(
        options={"beam_size": 10**6}, says=("options.beam_size", "between 1 and 16", "1000000")
    ),
    "negative-beam": Case(options={"beam_size": -1}, says=("options.beam_size",)),
    "negative-max-output": Case(
        options={"max_output_tokens": -5}, says=("options.max_output_tokens", "1 and 1024")
    ),
    "negative-ngram": Case(options={"no_repeat_ngram_size": -1}, says=("no_repeat_ngram_size",)),
    "huge-alternatives": Case(options={"num_alternatives": 99}, says=("num_alternatives",)),
    "nan-penalty": Case(options={"repetition_penalty": float("nan")}, says=("got nan",)),
    "unknown-quality": Case(options={"quality": 42}, says=("QUALITY_FAST",)),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_hostile_translate_request(
    case: Case,
    stub: pb_grpc.TranslationServiceStub,
    health_stub: object,
    check_health: Callable[..., str],
) -> None:
    request = pb.TranslateTextRequest(
        contents=case.contents,
        target_language_code=case.target,
        source_language_code=case.source,
        model=case.model,
        options=pb.TranslationOptions(**case.options),
    )
    with pytest.raises(grpc.RpcError) as caught:
        stub.TranslateText(request, timeout=60)
    error: Any = caught.value
    assert error.code() == case.code, error.details()
    for fragment in case.says:
        assert fragment in error.details()
    assert check_health(health_stub) == "SERVING"
    # ...and still translates.
    ok = stub.TranslateText(pb.TranslateTextRequest(contents=["Hi."], target_language_code="fr"))
    assert len(ok.translations) == 1


def test_list_languages_of_unknown_model(stub: pb_grpc.TranslationServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        stub.ListLanguages(pb.ListLanguagesRequest(model="gpt-9"), timeout=10)
    error: Any = caught.value
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert "'gpt-9'" in error.details() and "nllb" in error.details()


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


def _config(**fields: Any) -> pb.StreamTranslateTextRequest:
    return pb.StreamTranslateTextRequest(config=pb.StreamingTranslationConfig(**fields))


def _segment(segment_id: str, text: str) -> pb.StreamTranslateTextRequest:
    return pb.StreamTranslateTextRequest(
        segment=pb.TranslationSegment(segment_id=segment_id, text=text)
    )


STREAM_CASES: dict[str, tuple[list[pb.StreamTranslateTextRequest], tuple[str, ...]]] = {
    "segment-first": ([_segment("a", "Hi.")], ("first message", "config")),
    "no-messages": ([], ("first message", "got nothing")),
    "config-twice": ([_config(target_language_code="fr")] * 2, ("message 1", "only the first")),
    "missing-target": ([_config(), _segment("a", "Hi.")], ("config.target_language_code",)),
    "invalid-target": ([_config(target_language_code="xx"), _segment("a", "Hi.")], ("'xx'",)),
    "empty-segment": ([_config(target_language_code="fr"), _segment("s7", "")], ("'s7'",)),
    "nul-segment": ([_config(target_language_code="fr"), _segment("", "a\x00")], ("NUL",)),
    "bad-options": (
        [_config(target_language_code="fr", options=pb.TranslationOptions(beam_size=-3))],
        ("options.beam_size",),
    ),
}


@pytest.mark.parametrize(("messages", "says"), STREAM_CASES.values(), ids=STREAM_CASES.keys())
def test_hostile_stream(
    stub: pb_grpc.TranslationServiceStub,
    health_stub: object,
    check_health: Callable[..., str],
    messages: list[pb.StreamTranslateTextRequest],
    says: tuple[str, ...],
) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        list(stub.StreamTranslateText(iter(messages), timeout=60))
    error: Any = caught.value
    assert error.code() == INVALID, error.details()
    for fragment in says:
        assert fragment in error.details()
    assert check_health(health_stub) == "SERVING"


def test_client_cancels_mid_stream(
    app: App,
    stub: pb_grpc.TranslationServiceStub,
    health_stub: object,
    check_health: Callable[..., str],
) -> None:
    more = threading.Event()

    def requests() -> Iterator[pb.StreamTranslateTextRequest]:
        greedy = pb.TranslationOptions(quality=pb.QUALITY_FAST)
        yield _config(target_language_code="fr", options=greedy, interim_results=True)
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
    for _ in range(200):
        if app.gate.in_flight == 0:
            break
        threading.Event().wait(0.05)
    assert app.gate.in_flight == 0
    assert check_health(health_stub) == "SERVING"
    ok = stub.TranslateText(pb.TranslateTextRequest(contents=["Hi."], target_language_code="fr"))
    assert len(ok.translations) == 1
