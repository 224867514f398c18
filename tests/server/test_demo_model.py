"""Translation correctness over gRPC on the shipped demo model's held-out sentences.

The demo model's test split (never trained on) comes from the same seeded grammar
that built it (`finetune/demo/corpus.py`), so the references are exact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from dragoman.server.app import App

from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc

HELD_OUT = 60
#: Share of held-out sentences that must come back exactly as the reference says.
MIN_EXACT = 0.85


@pytest.fixture(scope="module")
def held_out() -> list[dict[str, str]]:
    """The first held-out rows: language code -> sentence."""
    from dragoman.finetune.demo.corpus import CorpusSpec, build_corpus

    return build_corpus(CorpusSpec()).test[:HELD_OUT]


@pytest.fixture(scope="module")
def demo_stub(
    demo_model_dir: Path, server_factory: Callable[..., App]
) -> Iterator[pb_grpc.TranslationServiceStub]:
    """A server with the demo model alone (skips while the demo model is not built)."""
    app = server_factory(
        models=[{"name": "demo", "path": str(demo_model_dir), "device": "cpu", "intra_threads": 1}]
    )
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        yield pb_grpc.TranslationServiceStub(channel)


def _translate(
    stub: pb_grpc.TranslationServiceStub, texts: list[str], source: str, target: str
) -> list[str]:
    request = pb.TranslateTextRequest(
        contents=texts, source_language_code=source, target_language_code=target
    )
    translations = stub.TranslateText(request, timeout=300).translations
    assert [t.model for t in translations] == ["demo"] * len(texts)
    return [t.translated_text for t in translations]


@pytest.mark.parametrize(
    ("source", "target"),
    [("eng_Latn", "qaa_Latn"), ("eng_Latn", "qab_Latn"), ("qaa_Latn", "eng_Latn")],
    ids=["eng-qaa", "eng-qab", "qaa-eng"],
)
def test_held_out_sentences_translate_correctly(
    demo_stub: pb_grpc.TranslationServiceStub, held_out: list[dict[str, str]], source: str,
    target: str,
) -> None:  # fmt: skip
    hypotheses = _translate(demo_stub, [row[source] for row in held_out], source, target)
    references = [row[target] for row in held_out]
    assert len(hypotheses) == len(references)
    exact = sum(h == r for h, r in zip(hypotheses, references, strict=True)) / len(references)
    assert exact >= MIN_EXACT, list(zip(hypotheses, references, strict=True))[:5]


def test_aliases_translate_like_model_codes(
    demo_stub: pb_grpc.TranslationServiceStub, held_out: list[dict[str, str]]
) -> None:
    texts = [row["eng_Latn"] for row in held_out[:8]]
    assert _translate(demo_stub, texts, "en", "qaa") == _translate(
        demo_stub, texts, "eng_Latn", "qaa_Latn"
    )


def test_paragraphs_keep_whitespace_and_translate_sentence_by_sentence(
    demo_stub: pb_grpc.TranslationServiceStub, held_out: list[dict[str, str]]
) -> None:
    sentences = [row["eng_Latn"] for row in held_out[:7]]
    singles = _translate(demo_stub, sentences, "eng_Latn", "qaa_Latn")
    separators = ["\n  ", " ", "\n\n", "  ", "\n\n\n\t", " ", "\r\n", "\n"]

    def weave(parts: list[str]) -> str:
        return separators[0] + "".join(p + s for p, s in zip(parts, separators[1:], strict=True))

    (document,) = _translate(demo_stub, [weave(sentences)], "eng_Latn", "qaa_Latn")
    assert document == weave(singles)


def test_stream_finals_match_translate_text(
    demo_stub: pb_grpc.TranslationServiceStub, held_out: list[dict[str, str]]
) -> None:
    sentences = [row["eng_Latn"] for row in held_out[:4]]

    def requests() -> Iterator[pb.StreamTranslateTextRequest]:
        yield pb.StreamTranslateTextRequest(
            config=pb.StreamingTranslationConfig(
                source_language_code="en", target_language_code="qab", interim_results=True,
                options=pb.TranslationOptions(quality=pb.QUALITY_FAST),
            )
        )  # fmt: skip
        for index, text in enumerate(sentences):
            yield pb.StreamTranslateTextRequest(
                segment=pb.TranslationSegment(segment_id=f"s{index}", text=text)
            )

    responses = list(demo_stub.StreamTranslateText(requests(), timeout=300))
    finals = [r for r in responses if r.is_final]
    assert [r.segment_id for r in finals] == [f"s{i}" for i in range(len(sentences))]
    greedy = pb.TranslationOptions(quality=pb.QUALITY_FAST)
    request = pb.TranslateTextRequest(
        contents=sentences, source_language_code="en", target_language_code="qab", options=greedy
    )
    expected = [t.translated_text for t in demo_stub.TranslateText(request).translations]
    assert [r.translated_text for r in finals] == expected
    assert any(not r.is_final for r in responses)
