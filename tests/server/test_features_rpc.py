"""Terminology, placeholders, markup and DetectLanguage over gRPC, on a real server.

The tiny models translate into nonsense; these tests check the wire contract (fields,
status codes, messages) and what holds whatever the model says. Quality on the demo
model is in tests/engine/test_features_demo.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from dragoman.server.app import App

from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc

GREEDY = pb.TranslationOptions(quality=pb.QUALITY_FAST, max_output_tokens=24)


@pytest.fixture(scope="module")
def glossary_app(server_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> App:
    """A server with a glossary directory holding `pets` (JSON) and `places` (TSV)."""
    directory = tmp_path_factory.mktemp("glossaries")
    (directory / "pets.json").write_text(
        json.dumps({"ignore_case": True, "entries": [["cat", "KATZE-G"], ["dog", "HUND-G"]]}),
        encoding="utf-8",
    )
    (directory / "places.tsv").write_text("river\tFLUSS-G\n", encoding="utf-8")
    app: App = server_factory(glossary_dir=str(directory))
    return app


@pytest.fixture(scope="module")
def fstub(glossary_app: App) -> Iterator[pb_grpc.TranslationServiceStub]:
    with grpc.insecure_channel(f"127.0.0.1:{glossary_app.port}") as channel:
        yield pb_grpc.TranslationServiceStub(channel)


def translate(stub: pb_grpc.TranslationServiceStub, texts: list[str], **fields: Any) -> list:  # type: ignore[type-arg]
    request = pb.TranslateTextRequest(
        contents=texts, target_language_code="fra_Latn", source_language_code="eng_Latn",
        options=GREEDY, **fields,
    )  # fmt: skip
    return list(stub.TranslateText(request, timeout=60).translations)


def test_inline_glossary_is_forced_and_reported(fstub: pb_grpc.TranslationServiceStub) -> None:
    config = pb.TranslationGlossaryConfig(
        entries=[pb.GlossaryEntry(source_term="Cat", target_term="CHAT-I")], ignore_case=True
    )
    (result,) = translate(fstub, ["The cat sees the dog."], glossary_config=config)
    assert "CHAT-I" in result.translated_text
    assert [(e.source_term, e.target_term) for e in result.applied_glossary_entries] == [
        ("Cat", "CHAT-I")
    ]


def test_stored_glossaries_by_name(fstub: pb_grpc.TranslationServiceStub) -> None:
    pets = pb.TranslationGlossaryConfig(glossary="pets")
    (result,) = translate(fstub, ["The Cat and the dog."], glossary_config=pets)
    assert "KATZE-G" in result.translated_text and "HUND-G" in result.translated_text
    places = pb.TranslationGlossaryConfig(glossary="places")
    (result,) = translate(fstub, ["The river."], glossary_config=places)
    assert "FLUSS-G" in result.translated_text


def test_placeholders_and_do_not_translate(fstub: pb_grpc.TranslationServiceStub) -> None:
    text = "Hello {name}, Dragoman has %d messages at https://example.com/x?a=1."
    (result,) = translate(fstub, [text], do_not_translate=["Dragoman"])
    for kept in ("{name}", "Dragoman", "%d", "https://example.com/x?a=1"):
        assert kept in result.translated_text


def test_html_over_grpc(fstub: pb_grpc.TranslationServiceStub) -> None:
    html = '<p>The <a href="/x" class="y">cat</a> sees <code>x &lt; y</code>.</p>'
    (result,) = translate(fstub, [html], mime_type="text/html")
    text = result.translated_text
    assert text.startswith("<p>") and text.endswith("</p>")
    assert '<a href="/x" class="y">' in text and "<code>x &lt; y</code>" in text


def test_stream_with_features(fstub: pb_grpc.TranslationServiceStub) -> None:
    config = pb.StreamingTranslationConfig(
        target_language_code="fr", source_language_code="en", options=GREEDY,
        glossary_config=pb.TranslationGlossaryConfig(glossary="pets"), mime_type="text/html",
    )  # fmt: skip
    requests = [
        pb.StreamTranslateTextRequest(config=config),
        pb.StreamTranslateTextRequest(
            segment=pb.TranslationSegment(segment_id="a", text="<b>The dog</b> {x}.")
        ),
    ]
    responses = list(fstub.StreamTranslateText(iter(requests), timeout=60))
    final = [r for r in responses if r.is_final]
    assert len(final) == 1 and "HUND-G" in final[0].translated_text
    assert "{x}" in final[0].translated_text and "<b>" in final[0].translated_text


HOSTILE: dict[str, tuple[dict[str, Any], str]] = {
    "unknown-mime": ({"mime_type": "application/pdf"}, "mime_type 'application/pdf'"),
    "empty-term": (
        {"glossary_config": pb.TranslationGlossaryConfig(
            entries=[pb.GlossaryEntry(source_term="", target_term="x")])},
        "empty source term",
    ),
    "conflicting-terms": (
        {"glossary_config": pb.TranslationGlossaryConfig(entries=[
            pb.GlossaryEntry(source_term="cat", target_term="a"),
            pb.GlossaryEntry(source_term="cat", target_term="b")])},
        "two entries for 'cat'",
    ),
    "too-many-terms": (
        {"glossary_config": pb.TranslationGlossaryConfig(entries=[
            pb.GlossaryEntry(source_term=f"t{i}", target_term="x") for i in range(10_001)])},
        "at most 10000",
    ),
    "unknown-glossary": (
        {"glossary_config": pb.TranslationGlossaryConfig(glossary="nope")},
        "stored glossaries are: pets, places",
    ),
    "bad-glossary-name": (
        {"glossary_config": pb.TranslationGlossaryConfig(glossary="../etc/passwd")},
        "invalid glossary name",
    ),
    "empty-dnt": ({"do_not_translate": [""]}, "do_not_translate\\[0\\]"),
    "unbalanced-html": ({"mime_type": "text/html", "contents": ["a</b>"]}, "closes no open"),
}  # fmt: skip


@pytest.mark.parametrize("fields, message", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_feature_inputs_are_invalid_argument(
    fstub: pb_grpc.TranslationServiceStub, fields: dict[str, Any], message: str
) -> None:
    fields = dict(fields)
    contents = fields.pop("contents", ["The cat."])
    with pytest.raises(grpc.RpcError) as info:
        translate(fstub, contents, **fields)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert re.search(message, info.value.details() or "")


def test_ten_thousand_entries_and_whole_text_term(fstub: pb_grpc.TranslationServiceStub) -> None:
    entries = [pb.GlossaryEntry(source_term=f"term{i}", target_term=f"T{i}") for i in range(9_999)]
    entries.append(pb.GlossaryEntry(source_term="The whole text.", target_term="Tout le texte."))
    config = pb.TranslationGlossaryConfig(entries=entries)
    first, whole = translate(fstub, ["The term7 walks.", "The whole text."], glossary_config=config)
    assert "T7" in first.translated_text
    assert whole.translated_text == "Tout le texte."


def test_detect_language_candidates(fstub: pb_grpc.TranslationServiceStub) -> None:
    request = pb.DetectLanguageRequest(
        contents=[
            "The weather is lovely today and we are going for a walk.",
            "Мы пошли в парк и долго гуляли вдоль реки.",
            "El perro come su comida en la cocina todos los días.",
        ],
        max_candidates=2,
    )
    detections = fstub.DetectLanguage(request, timeout=30).detections
    best = [(d.languages[0].language_code, d.languages[0].supported) for d in detections]
    assert best == [("eng_Latn", True), ("rus_Cyrl", True), ("es", False)]
    assert all(1 <= len(d.languages) <= 2 for d in detections)
    assert all(0 < d.languages[0].confidence <= 1 for d in detections)


@pytest.mark.parametrize("count", [-1, 11])
def test_detect_language_bounds(fstub: pb_grpc.TranslationServiceStub, count: int) -> None:
    with pytest.raises(grpc.RpcError) as info:
        fstub.DetectLanguage(pb.DetectLanguageRequest(contents=["x"], max_candidates=count))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
