"""TranslateDocument and StreamTranslateDocument on a real server with the demo model,
and hostile files: each gets a clear status code, and the server stays SERVING."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import grpc
import hostile
import pytest
from corpus import Sentence, all_cases, held_out
from dragoman.server.app import App
from grpc_health.v1 import health_pb2, health_pb2_grpc

from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def _request(content: bytes, file_name: str = "", mime: str = "", **kw: Any) -> Any:
    document = pb.Document(content=content, file_name=file_name, mime_type=mime)
    kw.setdefault("target_language_code", "qaa_Latn")
    return pb.TranslateDocumentRequest(document=document, **kw)


def test_translate_document_returns_the_same_format(
    stub: pb_grpc.TranslationServiceStub, sentences: list[Sentence]
) -> None:
    case = all_cases()["docx"]
    content = case.build(sentences)
    response = stub.TranslateDocument(_request(content, case.file_name), timeout=60)
    assert response.document.file_name == case.file_name
    assert response.document.mime_type.endswith("wordprocessingml.document")
    assert response.detected_language_code == "eng_Latn" and response.model == "demo"
    before, after = case.read(content), case.read(response.document.content)
    assert after.structure == before.structure and after.fixed == before.fixed
    assert response.segment_count == len(before.pieces)
    assert response.character_count == sum(len(p) for p in before.pieces)


def test_stream_reports_progress_then_the_document(stub: pb_grpc.TranslationServiceStub) -> None:
    sentences = held_out(300)
    text = "\n\n".join(s.eng for s in sentences).encode()
    request = pb.StreamTranslateDocumentRequest(request=_request(text, "long.txt"))
    messages = list(stub.StreamTranslateDocument(request, timeout=120))
    progress = [m.progress for m in messages[:-1]]
    assert all(m.WhichOneof("event") == "progress" for m in messages[:-1])
    assert messages[-1].WhichOneof("event") == "result"
    done = [p.translated_segment_count for p in progress]
    assert done[0] == 0 and done == sorted(done) and len(done) >= 3  # several waves
    assert {p.total_segment_count for p in progress} == {len(sentences)}
    assert done[-1] == len(sentences)
    result = messages[-1].result.document.content.decode()
    assert result.count("\n\n") == text.count(b"\n\n")
    assert sentences[0].qaa in result


#: name -> (builder, file name, mime type, what the message must say)
HOSTILE: dict[str, tuple[Callable[[list[Sentence]], bytes], str, str, tuple[str, ...]]] = {
    "42-zip-bomb": (hostile.zip_bomb, "bomb.docx", "", ("zip bomb",)),
    "xxe-docx": (hostile.xxe_docx, "xxe.docx", "", ("word/document.xml", "XXE")),
    "billion-laughs-xliff": (hostile.billion_laughs_xliff, "lol.xlf", "", ("entities",)),
    "truncated-pptx": (hostile.truncated_pptx, "cut.pptx", "", ("not a valid .pptx",)),
    "docm-with-macros": (hostile.macro_docx, "macros.docm", "", ("macro-enabled",)),
    "macros-inside-docx": (hostile.macro_docx, "macros.docx", "", ("contains macros",)),
    "encrypted-docx": (hostile.encrypted_docx, "secret.docx", "", ("password-protected",)),
    "zero-bytes": (lambda s: b"", "empty.docx", "", ("empty (0 bytes)",)),
    "wrong-mime-type": (lambda s: b"hello", "a.txt", "image/png", ("'image/png'", "text/html")),
    "docx-that-is-text": (lambda s: b"The cat.", "a.docx", "", ("not a valid .docx",)),
    "unknown-extension": (lambda s: b"x", "a.exe", "", ("cannot tell the format",)),
    "binary-as-text": (lambda s: b"\xff\xfe\x00\x01", "a.txt", "", ("not UTF-8",)),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_file_gets_a_clear_error_and_the_server_keeps_serving(
    name: str, app: App, stub: pb_grpc.TranslationServiceStub, channel: grpc.Channel,
    sentences: list[Sentence],
) -> None:  # fmt: skip
    build, file_name, mime, says = HOSTILE[name]
    with pytest.raises(grpc.RpcError) as caught:
        stub.TranslateDocument(_request(build(sentences), file_name, mime), timeout=60)
    assert caught.value.code() == INVALID, caught.value.details()
    for part in says:
        assert part in caught.value.details()
    health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=60)
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    breaker = app.engine.breaker
    assert breaker is None or breaker.status().consecutive_failures == 0


def test_missing_document_and_target_are_invalid(stub: pb_grpc.TranslationServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        stub.TranslateDocument(pb.TranslateDocumentRequest(target_language_code="qaa"), timeout=10)
    assert caught.value.code() == INVALID and "document is required" in caught.value.details()
    with pytest.raises(grpc.RpcError) as caught:
        stub.TranslateDocument(_request(b"Hi.", "a.txt", target_language_code=""), timeout=10)
    assert caught.value.code() == INVALID and "target_language_code" in caught.value.details()


def test_text_document_round_trip_keeps_bytes_outside_the_text(
    stub: pb_grpc.TranslationServiceStub, sentences: list[Sentence]
) -> None:
    text = f"\ufeff{sentences[1].eng}\r\n\r\n   {sentences[2].eng}\n".encode()
    response = stub.TranslateDocument(_request(text, "a.txt"), timeout=30)
    out = io.BytesIO(response.document.content).read().decode("utf-8")
    assert out == f"\ufeff{sentences[1].qaa}\r\n\r\n   {sentences[2].qaa}\n"


def test_a_translation_larger_than_a_message_is_refused_with_the_limit() -> None:
    from dragoman.engine.documents import DocumentResult, DocumentTooLarge
    from dragoman.server import document_wire
    from dragoman.server.settings import LimitSettings

    limits = LimitSettings(max_message_bytes=64 * 1024)
    result = DocumentResult(b"x" * 70_000, "text/plain", "a.txt", "eng_Latn", "demo", 1, 9)
    with pytest.raises(DocumentTooLarge, match="65,536"):
        document_wire.response_to_proto(result, limits)
    small = DocumentResult(b"x" * 1000, "text/plain", "a.txt", "eng_Latn", "demo", 1, 9)
    assert document_wire.response_to_proto(small, limits).document.content == small.content
