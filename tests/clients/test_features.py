"""Glossaries, protected terms, markup and language detection through the client."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from dragoman.clients import (
    AsyncTranslationClient,
    Glossary,
    GlossaryEntry,
    TranslationClient,
    TranslationOptions,
)

OPTIONS = TranslationOptions(glossary=Glossary.of({"cat": "CHAT"}), do_not_translate=("Dragoman",))


@pytest.fixture(scope="module")
def client(live_server: str) -> Iterator[TranslationClient]:
    with TranslationClient(live_server, timeout=60) as client:
        yield client


def test_glossary_and_protected_terms(client: TranslationClient, served_model) -> None:
    texts = ["The cat likes Dragoman.", "Send {name} to x@example.com today."]
    forced, protected = client.translate(
        texts, to=served_model.target, source=served_model.source, options=OPTIONS
    )
    assert "CHAT" in forced.text and "Dragoman" in forced.text
    assert forced.applied_glossary_entries == (GlossaryEntry("cat", "CHAT"),)
    assert "{name}" in protected.text and "x@example.com" in protected.text
    assert protected.applied_glossary_entries == ()
    streamed = [
        r
        for r in client.translate_stream(
            [texts[0]], to=served_model.target, source=served_model.source, options=OPTIONS
        )
    ]
    assert streamed[-1].is_final and streamed[-1].text == forced.text


def test_markup_is_kept(client: TranslationClient, served_model) -> None:
    html = TranslationOptions(mime_type="text/html")
    result = client.translate_text("<p>Hello <b>world</b>.</p>", to=served_model.target,
                                   source=served_model.source, options=html)  # fmt: skip
    assert result.text.startswith("<p>") and result.text.endswith("</p>")
    assert "<b>" in result.text and "</b>" in result.text


def test_detect_language(client: TranslationClient, live_server: str) -> None:
    english = "The cat eats the fish in the garden every morning."
    (candidates,) = client.detect_language([english], max_candidates=2)
    assert 1 <= len(candidates) <= 2
    assert candidates[0].code == "eng_Latn" and candidates[0].supported
    assert candidates[0].confidence > 0.5

    async def detect() -> str:
        async with AsyncTranslationClient(live_server) as aclient:
            return (await aclient.detect_language([english]))[0][0].code

    assert asyncio.run(detect()) == "eng_Latn"
