"""The sync and asyncio clients against a real server with a real CTranslate2 model."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Iterator

import pytest
from dragoman.clients import (
    AsyncTranslationClient,
    InvalidArgument,
    NotFound,
    Segment,
    TranslationClient,
    TranslationOptions,
    Unavailable,
)


@pytest.fixture(scope="module")
def client(live_server: str) -> Iterator[TranslationClient]:
    with TranslationClient(live_server, timeout=60) as client:
        yield client


def test_translate_returns_typed_results_in_order(client: TranslationClient, served_model) -> None:
    texts = ["Hello world.", "The cat eats.", "The cat eats."]
    results = client.translate(texts, to=served_model.target, source=served_model.source)
    assert len(results) == 3
    assert all(r.text and r.model == served_model.name for r in results)
    assert all(r.detected_language == served_model.source for r in results)
    assert results[1].text == results[2].text  # deterministic
    single = client.translate_text("The cat eats.", to=served_model.target, source="en")
    assert single.text == results[1].text  # BCP-47 alias == model code


def test_options_reach_the_server(client: TranslationClient, served_model) -> None:
    options = TranslationOptions(quality="best", num_alternatives=2, return_scores=True)
    result = client.translate_text("Hello.", to=served_model.target, options=options)
    assert result.score < 0
    assert 1 <= len(result.alternatives) <= 2
    assert all(a.score < 0 for a in result.alternatives)


def test_listing_and_health(client: TranslationClient, served_model) -> None:
    models = client.list_models()
    assert [(m.name, m.default) for m in models] == [(served_model.name, True)]
    assert served_model.target in models[0].languages
    codes = [language.code for language in client.list_languages()]
    assert served_model.source in codes and served_model.target in codes
    assert client.is_serving()
    client.wait_until_serving(timeout=60)


def test_caller_mistakes_raise_typed_errors_without_retry(
    client: TranslationClient, served_model
) -> None:
    retries = client.stats.retries
    with pytest.raises(InvalidArgument, match="supported codes are") as caught:
        client.translate_text("Hello.", to="xx_Nope")
    assert caught.value.attempts == 1
    with pytest.raises(NotFound, match=served_model.name):
        client.translate_text("Hello.", to=served_model.target, model="no-such-model")
    with pytest.raises(InvalidArgument):
        client.translate([""], to=served_model.target)
    with pytest.raises(TypeError):
        client.translate("not a list", to=served_model.target)  # type: ignore[arg-type]
    assert client.stats.retries == retries


def test_stream_answers_every_segment_with_the_callers_ids(
    client: TranslationClient, served_model
) -> None:
    segments = [Segment("The cat eats.", "a"), "Hello world.", Segment("The cat eats.", "a")]
    finals = [
        r
        for r in client.translate_stream(segments, to=served_model.target, source="eng_Latn")
        if r.is_final
    ]
    assert sorted(r.segment_id for r in finals) == ["1", "a", "a"]
    unary = client.translate(
        ["The cat eats.", "Hello world."], to=served_model.target, source="eng_Latn"
    )
    by_id = {r.segment_id: r.text for r in finals}
    assert by_id["a"] == unary[0].text and by_id["1"] == unary[1].text


def test_stream_reads_a_live_source_lazily(client: TranslationClient, served_model) -> None:
    """Segments come from a blocking queue: results arrive before the input ends."""
    source: queue.Queue[str | None] = queue.Queue()

    def segments() -> Iterator[str]:
        while (item := source.get(timeout=30)) is not None:
            yield item

    stream = client.translate_stream(
        segments(), to=served_model.target, options=TranslationOptions(quality="fast"),
        interim_results=True,
    )  # fmt: skip
    source.put("Hello world.")
    first_final = next(r for r in stream if r.is_final)
    assert first_final.segment_id == "0" and first_final.text
    source.put("The cat eats.")
    second = next(r for r in stream if r.is_final)
    assert second.segment_id == "1"
    source.put(None)
    assert [r for r in stream if r.is_final] == []


def test_nothing_listening_is_unavailable_after_retries() -> None:
    client = TranslationClient("127.0.0.1:1", timeout=5)
    with client, pytest.raises(Unavailable) as caught:
        client.translate_text("Hello.", to="fr")
    assert caught.value.attempts == 6  # RetryPolicy().max_attempts
    assert client.stats.retries >= 1


def test_async_client(live_server: str, served_model) -> None:
    async def main() -> None:
        async with AsyncTranslationClient(live_server, timeout=60) as client:
            results = await asyncio.gather(
                *(client.translate_text(t, to=served_model.target) for t in ["Hello.", "A cat."])
            )
            assert all(r.text for r in results)
            assert (await client.list_models())[0].name == served_model.name
            assert await client.is_serving()

            async def segments():  # an async source
                for text in ["Hello.", "A cat."]:
                    yield text

            finals = [
                r
                async for r in client.translate_stream(segments(), to=served_model.target)
                if r.is_final
            ]
            assert sorted(r.segment_id for r in finals) == ["0", "1"]
            assert {r.text for r in finals} == {r.text for r in results}
            with pytest.raises(InvalidArgument):
                await client.translate_text("Hello.", to="xx_Nope")

    asyncio.run(main())


def test_sync_client_is_thread_safe(client: TranslationClient, served_model) -> None:
    errors: list[BaseException] = []
    results: list[str] = []

    def work() -> None:
        try:
            results.append(client.translate_text("Hello world.", to=served_model.target).text)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and len(set(results)) == 1 and len(results) == 8


def test_a_failing_source_is_raised_after_its_segments_are_answered(
    client: TranslationClient, served_model
) -> None:
    def segments() -> Iterator[str]:
        yield "Hello world."
        yield "The cat eats."
        raise LookupError("the caller's source broke")

    finals = []
    with pytest.raises(LookupError, match="source broke"):
        for result in client.translate_stream(segments(), to=served_model.target):
            finals.append(result.segment_id)
    assert sorted(finals) == ["0", "1"]


def test_dns_target_like_a_headless_service(live_server: str, served_model) -> None:
    """`dns:///name:port` is resolved by gRPC and balanced over every address it returns."""
    port = live_server.rsplit(":", 1)[1]
    with TranslationClient(f"dns:///localhost:{port}", health_check_service="") as client:
        assert client.target == f"dns:///localhost:{port}"
        assert client.translate_text("Hello.", to=served_model.target).text
