"""The four RPCs, health and reflection against a real server with tiny real models.

The tiny models have random weights, so their translations are meaningless but
deterministic: the tests compare a request's results with the same text translated
alone, and check structure (order, length, whitespace). Translation quality is
checked on the demo model in test_demo_model.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import grpc
import pytest
from dragoman.server.app import App
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc

GREEDY = pb.TranslationOptions(quality=pb.QUALITY_FAST)
TEXTS = [
    "The cat walks.",
    "My friend reads a book under the tree today.",
    "Big dog!",
    "The red house near the river sees the light tomorrow.",
]


def translate(
    stub: pb_grpc.TranslationServiceStub,
    texts: list[str],
    target: str = "fra_Latn",
    **fields: object,
) -> list[pb.Translation]:
    request = pb.TranslateTextRequest(
        contents=texts, target_language_code=target, source_language_code="eng_Latn", **fields
    )
    request.options.CopyFrom(fields.get("options", GREEDY))  # type: ignore[arg-type]
    return list(stub.TranslateText(request, timeout=60).translations)


def test_translate_keeps_order_and_length(stub: pb_grpc.TranslationServiceStub) -> None:
    batch = translate(stub, TEXTS)
    alone = [translate(stub, [text])[0] for text in TEXTS]
    assert len(batch) == len(TEXTS)
    assert [t.translated_text for t in batch] == [t.translated_text for t in alone]
    assert all(t.translated_text for t in batch)
    assert {t.model for t in batch} == {"nllb"}
    assert {t.detected_language_code for t in batch} == {"eng_Latn"}


def test_reversed_request_gives_reversed_results(stub: pb_grpc.TranslationServiceStub) -> None:
    forward = [t.translated_text for t in translate(stub, TEXTS)]
    backward = [t.translated_text for t in translate(stub, TEXTS[::-1])]
    assert backward == forward[::-1]


@pytest.mark.parametrize(
    ("model", "model_code", "alias"),
    [("nllb", "fra_Latn", "fr"), ("nllb", "zho_Hans", "zh-Hans"), ("m2m100", "fr", "fr-FR")],
    ids=["nllb-fr", "nllb-zh-Hans", "m2m100-fr"],
)
def test_model_codes_and_bcp47_aliases_agree(
    stub: pb_grpc.TranslationServiceStub, model: str, model_code: str, alias: str
) -> None:
    def run(target: str, source: str) -> list[pb.Translation]:
        request = pb.TranslateTextRequest(
            contents=TEXTS[:2], source_language_code=source, target_language_code=target,
            model=model, options=GREEDY,
        )  # fmt: skip
        return list(stub.TranslateText(request, timeout=60).translations)

    source_code = "eng_Latn" if model == "nllb" else "en"
    by_code = run(model_code, source_code)
    by_alias = run(alias, "en")
    assert [t.translated_text for t in by_alias] == [t.translated_text for t in by_code]
    assert [t.detected_language_code for t in by_alias] == [source_code] * 2
    assert {t.model for t in by_code} == {model}


def test_models_translate_differently(stub: pb_grpc.TranslationServiceStub) -> None:
    nllb = translate(stub, TEXTS, target="fr", model="nllb")
    m2m = translate(stub, TEXTS, target="fr", model="m2m100")
    assert [t.model for t in nllb] == ["nllb"] * len(TEXTS)
    assert [t.model for t in m2m] == ["m2m100"] * len(TEXTS)
    assert [t.detected_language_code for t in m2m] == ["en"] * len(TEXTS)
    assert [t.translated_text for t in nllb] != [t.translated_text for t in m2m]


def _skeleton(text: str) -> list[str]:
    """The paragraph structure: leading/trailing whitespace and the breaks between."""
    import re

    return re.findall(r"^\s*|\n\s*\n\s*|\s*$", text)


def test_long_multi_paragraph_input_keeps_its_whitespace(
    stub: pb_grpc.TranslationServiceStub,
) -> None:
    paragraphs = [" ".join(TEXTS[i % 4] for i in range(n, n + 6)) for n in range(12)]
    text = "\n  " + "\n\n".join(paragraphs[:6]) + "\n\n\n\t" + "\n\n".join(paragraphs[6:]) + "\n"
    (translation,) = translate(stub, [text])
    out = translation.translated_text
    assert _skeleton(out) == _skeleton(text)
    assert out.count("\n\n") == text.count("\n\n")
    assert out.startswith("\n  ") and out.endswith("\n")
    first_paragraph = translate(stub, [paragraphs[0]])[0].translated_text
    assert out.strip().split("\n\n")[0] == first_paragraph


def test_scores_and_alternatives(stub: pb_grpc.TranslationServiceStub) -> None:
    options = pb.TranslationOptions(beam_size=4, num_alternatives=3, return_scores=True)
    (translation,) = translate(stub, [TEXTS[0]], options=options)
    assert len(translation.alternatives) == 3
    assert translation.alternatives[0].translated_text == translation.translated_text
    scores = [a.score for a in translation.alternatives]
    assert scores == sorted(scores, reverse=True)
    assert all(s < 0 for s in scores)
    assert translation.score == pytest.approx(scores[0])


def test_max_output_tokens_bounds_the_output(stub: pb_grpc.TranslationServiceStub) -> None:
    long = translate(stub, [TEXTS[1]], options=pb.TranslationOptions(quality=pb.QUALITY_FAST))
    short = translate(
        stub,
        [TEXTS[1]],
        options=pb.TranslationOptions(quality=pb.QUALITY_FAST, max_output_tokens=3),
    )
    assert 0 < len(short[0].translated_text) < len(long[0].translated_text)


def _stream(
    stub: pb_grpc.TranslationServiceStub, segments: list[tuple[str, str]], interim: bool
) -> list[pb.StreamTranslateTextResponse]:
    def requests() -> Iterator[pb.StreamTranslateTextRequest]:
        yield pb.StreamTranslateTextRequest(
            config=pb.StreamingTranslationConfig(
                source_language_code="en", target_language_code="fr", options=GREEDY,
                interim_results=interim,
            )
        )  # fmt: skip
        for segment_id, text in segments:
            yield pb.StreamTranslateTextRequest(
                segment=pb.TranslationSegment(segment_id=segment_id, text=text)
            )

    return list(stub.StreamTranslateText(requests(), timeout=120))


def test_stream_with_ids_and_interim_results(stub: pb_grpc.TranslationServiceStub) -> None:
    # Sentences no other test translates: a cached segment is final at once, no interim.
    segments = [
        ("s-1", "The small cat reads near the garden. My dog walks!"),
        ("s-2", "Their friend sings over the mountain tomorrow."),
    ]
    responses = _stream(stub, segments, interim=True)
    finals = [r for r in responses if r.is_final]
    assert [r.segment_id for r in finals] == ["s-1", "s-2"]
    expected = [t.translated_text for t in translate(stub, [text for _, text in segments])]
    assert [r.translated_text for r in finals] == expected
    for segment_id, final in zip(["s-1", "s-2"], finals, strict=True):
        interim = [r for r in responses if r.segment_id == segment_id and not r.is_final]
        assert interim, f"no interim results for {segment_id}"
        shown = ""
        for update in interim:  # text_offset: keep that much, then append
            assert update.text_offset <= len(shown)
            shown = shown[: update.text_offset] + update.translated_text
            assert final.translated_text.startswith(shown.rstrip())
        assert responses.index(final) > responses.index(interim[-1])
    assert {(r.model, r.detected_language_code) for r in responses} == {("nllb", "eng_Latn")}
    # Repeated: every sentence is cached, so each segment is final at once.
    again = _stream(stub, segments, interim=True)
    assert [(r.translated_text, r.is_final) for r in again] == [(t, True) for t in expected]


def test_stream_without_interim_sends_finals_only(stub: pb_grpc.TranslationServiceStub) -> None:
    responses = _stream(stub, [("a", TEXTS[0]), ("", TEXTS[2])], interim=False)
    assert [(r.segment_id, r.is_final) for r in responses] == [("a", True), ("", True)]
    assert [r.translated_text for r in responses] == [
        t.translated_text for t in translate(stub, [TEXTS[0], TEXTS[2]])
    ]


def test_stream_with_config_only_ends_cleanly(stub: pb_grpc.TranslationServiceStub) -> None:
    assert _stream(stub, [], interim=True) == []


def test_list_models(stub: pb_grpc.TranslationServiceStub) -> None:
    models = stub.ListModels(pb.ListModelsRequest(), timeout=10).models
    assert [m.name for m in models] == ["m2m100", "nllb"]
    by_name = {m.name: m for m in models}
    assert by_name["nllb"].default and not by_name["m2m100"].default
    assert by_name["nllb"].family == "nllb" and by_name["m2m100"].family == "m2m100"
    assert "fra_Latn" in by_name["nllb"].language_codes
    assert "fr" in by_name["m2m100"].language_codes
    assert {m.device for m in models} == {"cpu"}
    assert all(m.compute_type.startswith("int8") for m in models)


@pytest.mark.parametrize(
    ("model", "code", "alias"),
    [("", "fra_Latn", "fr"), ("m2m100", "fr", "fr")],
    ids=["default", "m2m100"],
)
def test_list_languages(
    stub: pb_grpc.TranslationServiceStub, model: str, code: str, alias: str
) -> None:
    languages = stub.ListLanguages(pb.ListLanguagesRequest(model=model), timeout=10).languages
    codes = [lang.language_code for lang in languages]
    assert codes == sorted(codes)
    by_code = {lang.language_code: lang for lang in languages}
    assert by_code[code].display_name
    assert alias == code or alias in by_code[code].aliases


def test_request_id_is_echoed_or_made(stub: pb_grpc.TranslationServiceStub) -> None:
    request = pb.ListModelsRequest()
    _, call = stub.ListModels.with_call(request, metadata=[("x-request-id", "abc-123")], timeout=10)
    assert ("x-request-id", "abc-123") in call.initial_metadata()
    for unusable in ["has spaces; and {json}", "x" * 500]:
        metadata = [("x-request-id", unusable)]
        _, call = stub.ListModels.with_call(request, metadata=metadata, timeout=10)
        made = dict(call.initial_metadata())["x-request-id"]
        assert len(made) == 32 and made != unusable


def test_health_serving(app: App, health_stub: object, check_health: Callable[..., str]) -> None:
    assert check_health(health_stub) == "SERVING"
    assert check_health(health_stub, "dragoman.translation.v1.TranslationService") == "SERVING"


def test_reflection_lists_the_services(channel: grpc.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    (response,) = stub.ServerReflectionInfo(iter([request]), timeout=10)
    names = {s.name for s in response.list_services_response.service}
    assert {"dragoman.translation.v1.TranslationService", "grpc.health.v1.Health"} <= names
