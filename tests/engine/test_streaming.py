"""Streaming: token-level interim results with greedy decoding, then one final."""

from __future__ import annotations

import pytest
from dragoman.engine.errors import Cancelled, InvalidOption, UnsupportedLanguage
from dragoman.engine.service import TranslationEngine
from dragoman.engine.types import (
    CallContext,
    DecodingOptions,
    StreamConfig,
    StreamUpdate,
    TranslationRequest,
)

GREEDY = DecodingOptions(beam_size=1)


def _stream(engine: TranslationEngine, text: str, **kwargs: object) -> list[StreamUpdate]:
    config = StreamConfig(**{"target_language": "fr", "source_language": "en", **kwargs})  # type: ignore[arg-type]
    return list(engine.stream_segment("seg-1", text, config, CallContext()))


def transcripts(updates: list[StreamUpdate]) -> list[str]:
    """What a client shows after each interim update (see StreamUpdate.offset)."""
    shown, out = "", []
    for update in updates:
        assert 0 <= update.offset <= len(shown)
        shown = shown[: update.offset] + update.text
        out.append(shown)
    return out


def _translate(engine: TranslationEngine, text: str, options: DecodingOptions) -> str:
    request = TranslationRequest((text,), "fr", "en", options=options)
    return engine.translate(request, CallContext())[0].text


@pytest.mark.parametrize("model", ["nllb", "m2m100"])
def test_interim_results_grow_to_the_final(engine: TranslationEngine, model: str) -> None:
    text = "The cat walks near the river.  My friend reads a book!\n"
    updates = _stream(engine, text, model=model, options=GREEDY, interim=True)
    *interim, final = updates
    assert final.is_final and not any(u.is_final for u in interim)
    assert interim  # tokens that arrive together coalesce into one update
    assert {u.segment_id for u in updates} == {"seg-1"}
    assert {u.model for u in updates} == {model}
    request = TranslationRequest((text,), "fr", "en", model, GREEDY)
    assert final.text == engine.translate(request, CallContext())[0].text
    # Each interim transcript is the final text so far (modulo a partial last word).
    for shown in transcripts(interim):
        assert final.text.startswith(shown.rstrip().rsplit(" ", 1)[0])


def test_interim_with_beam_search_is_refused_naming_the_fix(engine: TranslationEngine) -> None:
    with pytest.raises(InvalidOption, match=r"interim_results need greedy decoding.*QUALITY_FAST"):
        _stream(engine, "The dog eats.", options=DecodingOptions(beam_size=4), interim=True)
    # Unset beam size: greedy for interim streams, the same text as a greedy request.
    *_, final = _stream(engine, "The dog eats.", interim=True)
    assert final.text == _translate(engine, "The dog eats.", GREEDY)


def test_beam_search_without_interim_streams_only_the_final(engine: TranslationEngine) -> None:
    options = DecodingOptions(beam_size=4)
    updates = _stream(engine, "The dog eats.", options=options)
    assert [u.is_final for u in updates] == [True]
    assert updates[0].text == _translate(engine, "The dog eats.", options)


def test_without_interim_one_final(engine: TranslationEngine) -> None:
    updates = _stream(engine, "The dog eats.", options=GREEDY)
    assert [u.is_final for u in updates] == [True]
    assert updates[0].source_language == "eng_Latn"


def test_cancel_mid_stream_stops_decoding(engine: TranslationEngine) -> None:
    ctx = CallContext()
    config = StreamConfig("fr", options=GREEDY, interim=True)
    stream = engine.stream_segment("s", "The cat walks near the river.", config, ctx)
    first = next(stream)
    assert not first.is_final
    ctx.cancelled.set()
    with pytest.raises(Cancelled):
        next(stream)
    assert engine.stats.cancelled >= 1


def test_bad_language_raises_before_any_update(engine: TranslationEngine) -> None:
    config = StreamConfig("tlh", options=GREEDY, interim=True)
    stream = engine.stream_segment("s", "Hi.", config, CallContext())
    with pytest.raises(UnsupportedLanguage):
        next(stream)
