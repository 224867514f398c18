"""A stream whose server stops mid-stream is reopened on another server (sync and asyncio)."""

from __future__ import annotations

import asyncio
import queue
from collections.abc import AsyncIterator, Iterator
from typing import Any

from dragoman.clients import AsyncTranslationClient, TranslationClient

TEXTS = ["Hello world.", "The cat eats.", "My friend reads a book.", "The red house."]


def _stop_the_busy_one(apps: list[Any]) -> Any:
    """Stops (grace 0) the server holding the open stream; returns it."""
    busy = [app for app in apps if app.gate.in_flight > 0]
    assert len(busy) == 1, [app.gate.in_flight for app in apps]
    busy[0].stop(grace=0)
    return busy[0]


def test_sync_stream_moves_to_the_other_server(two_apps, served_model) -> None:
    addresses = [f"127.0.0.1:{app.port}" for app in two_apps]
    source: queue.Queue[str | None] = queue.Queue()

    def segments() -> Iterator[str]:
        while (item := source.get(timeout=30)) is not None:
            yield item

    with TranslationClient(addresses) as client:
        stream = client.translate_stream(segments(), to=served_model.target)
        finals = []
        for n, text in enumerate(TEXTS):
            if n == 2:
                stopped = _stop_the_busy_one(two_apps)
            source.put(text)
            finals.append(next(r for r in stream if r.is_final))
        source.put(None)
        assert [r for r in stream if r.is_final] == []
        assert client.stats.stream_reconnects >= 1
    assert [r.segment_id for r in finals] == ["0", "1", "2", "3"]
    assert all(r.text for r in finals)
    survivor = next(app for app in two_apps if app is not stopped)
    assert survivor.engine.stats.requests > 0


def test_async_stream_moves_to_the_other_server(two_apps, served_model) -> None:
    async def main() -> None:
        addresses = [f"127.0.0.1:{app.port}" for app in two_apps]
        source: asyncio.Queue[str | None] = asyncio.Queue()

        async def segments() -> AsyncIterator[str]:
            while (item := await source.get()) is not None:
                yield item

        async with AsyncTranslationClient(addresses) as client:
            stream = client.translate_stream(segments(), to=served_model.target)
            finals = []
            for n, text in enumerate(TEXTS):
                if n == 2:
                    await asyncio.to_thread(_stop_the_busy_one, two_apps)
                await source.put(text)
                async for result in stream:
                    if result.is_final:
                        finals.append(result)
                        break
            await source.put(None)
            assert [r async for r in stream if r.is_final] == []
            assert client.stats.stream_reconnects >= 1
        assert [r.segment_id for r in finals] == ["0", "1", "2", "3"]

    asyncio.run(main())
