"""Document limits (typed errors before any translation) and deadlines between waves."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from corpus import Sentence
from dragoman.engine.documents import (
    DocumentRequest,
    DocumentTooLarge,
    DocumentTranslator,
    find_format,
    load_document,
)
from dragoman.engine.errors import Cancelled, DeadlineExceeded
from dragoman.engine.types import CallContext

TXT = find_format("text/plain")


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"a\n\n" * (TXT.limits.max_units + 1), "text units"),
        (b"a" * (TXT.limits.max_chars + 1), "characters of text"),
        (b"a " * (TXT.limits.max_bytes // 2 + 1), "bytes"),
    ],
    ids=["units", "characters", "bytes"],
)
def test_limits_are_checked_before_translation(content: bytes, says: str) -> None:
    with pytest.raises(DocumentTooLarge, match=says):
        load_document(DocumentRequest(content, "qaa_Latn", file_name="big.txt"))


def _long_text(sentences: list[Sentence]) -> bytes:
    return "\n\n".join(s.eng for s in sentences * 20).encode() + b"\n\nTail."


def test_cancel_between_waves_stops_the_document(
    demo_engine: Any, sentences: list[Sentence]
) -> None:
    ctx = CallContext()
    translator = DocumentTranslator(demo_engine, wave_chars=200)
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(done)
        if done:
            ctx.cancelled.set()  # the caller goes away after the first wave

    request = DocumentRequest(_long_text(sentences[:10]), "qaa_Latn", file_name="a.txt")
    with pytest.raises(Cancelled):
        translator.translate(request, ctx, progress)
    assert seen[0] == 0 and len(seen) == 2  # no wave after the cancellation


def test_deadline_between_waves(demo_engine: Any, sentences: list[Sentence]) -> None:
    translator = DocumentTranslator(demo_engine, wave_chars=200)
    ctx = CallContext(deadline=time.monotonic() + 30)
    request = DocumentRequest(_long_text(sentences[10:20]), "qaa_Latn", file_name="a.txt")
    steps = translator.steps(request, ctx)
    next(steps)
    next(steps)
    object.__setattr__(ctx, "deadline", time.monotonic() - 1)  # time runs out mid-document
    with pytest.raises(DeadlineExceeded):
        list(steps)


def test_documents_share_the_engine_with_concurrent_callers(
    demo_engine: Any, sentences: list[Sentence]
) -> None:
    translator = DocumentTranslator(demo_engine)
    results: list[bytes] = []
    content = "\n\n".join(s.eng for s in sentences).encode()

    def one() -> None:
        request = DocumentRequest(content, "qaa_Latn", file_name="a.txt")
        results.append(translator.translate(request, CallContext()).content)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and len(set(results)) == 1
    assert results[0].decode().split("\n\n") == [s.qaa for s in sentences]


@pytest.mark.parametrize("name", ["docx", "pptx", "xlsx", "odt", "xliff", "po", "md"])
def test_damaged_files_fail_as_documents_never_as_bugs(
    name: str, demo_engine: Any, sentences: list[Sentence]
) -> None:
    import random

    from corpus import all_cases
    from dragoman.engine.documents import DocumentError

    case = all_cases()[name]
    content = case.build(sentences)
    rng = random.Random(name)
    translator = DocumentTranslator(demo_engine)
    outcomes = {"translated": 0, "refused": 0}
    for _ in range(25):
        damaged = bytearray(content)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        request = DocumentRequest(bytes(damaged), "qaa_Latn", file_name=case.file_name)
        try:
            translator.translate(request, CallContext())
            outcomes["translated"] += 1
        except DocumentError:
            outcomes["refused"] += 1
    assert sum(outcomes.values()) == 25, outcomes


def test_spreadsheets_may_hold_more_units_than_documents() -> None:
    xlsx, docx = find_format("", "a.xlsx"), find_format("", "a.docx")
    assert xlsx.limits.max_units > docx.limits.max_units
    assert xlsx.limits.max_chars == docx.limits.max_chars
