"""The asyncio client: `AsyncTranslationClient` (grpc.aio), same behaviour as the sync one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

import grpc
from dragoman.clients import convert
from dragoman.clients.base import ClientBase, ClientSettings
from dragoman.clients.errors import DragomanError, from_rpc_error
from dragoman.clients.retry import ClientStats
from dragoman.clients.stream import Attempt, StreamLedger
from dragoman.clients.types import (
    DetectedLanguage,
    DocumentTranslation,
    Language,
    Model,
    Segment,
    StreamResult,
    Translation,
    TranslationOptions,
)
from grpc_health.v1 import health_pb2, health_pb2_grpc

from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc

T = TypeVar("T")
SegmentSource = Iterable[str | Segment] | AsyncIterable[str | Segment]


async def _aiter(source: SegmentSource) -> AsyncIterator[str | Segment]:
    if isinstance(source, AsyncIterable):
        async for item in source:
            yield item
    else:
        for item in source:
            yield item


class _AsyncFeed:
    """Feeds each stream attempt from the caller's (async) iterator; see stream.SyncFeed."""

    def __init__(self, source: SegmentSource, ledger: StreamLedger) -> None:
        self._source = _aiter(source)
        self._lock = asyncio.Lock()
        self._ledger = ledger
        self.error: Exception | None = None

    async def _pull(self, attempt: Attempt) -> tuple[str, Segment] | None:
        async with self._lock:
            pending = self._ledger.unsent(attempt)
            if pending is not None or self._ledger.exhausted:
                return pending
            try:
                item = await anext(self._source)
            except StopAsyncIteration:
                self._ledger.exhausted = True
                return None
            except Exception as error:
                self.error = error
                self._ledger.exhausted = True
                return None
            return self._ledger.add(item)

    async def requests(
        self, config: pb.StreamTranslateTextRequest, attempt: Attempt
    ) -> AsyncIterator[pb.StreamTranslateTextRequest]:
        yield config
        while not attempt.done:
            item = self._ledger.unsent(attempt) or await self._pull(attempt)
            if item is None or attempt.done:
                return
            wire_id, segment = item
            attempt.sent.add(wire_id)
            yield convert.stream_segment(wire_id, segment.text)


class AsyncTranslationClient:
    """asyncio twin of `TranslationClient`; create it inside a running event loop.

    Example:
        >>> async with AsyncTranslationClient("127.0.0.1:50051") as client:
        ...     (await client.translate_text("Hello.", to="fr")).text

    Args:
        address: `host:port`, several of them, or a gRPC target (see TranslationClient).
        **kwargs: Passed to `ClientSettings.build`.
    """

    def __init__(self, address: str | Sequence[str], **kwargs: Any) -> None:
        self._base = ClientBase(ClientSettings.build(address, **kwargs))
        self._channel: grpc.aio.Channel = self._base.settings.channel.open(grpc.aio)
        self._stub = pb_grpc.TranslationServiceStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)

    @property
    def stats(self) -> ClientStats:
        """Counters: calls, retries, stream reconnects."""
        return self._base.stats

    @property
    def target(self) -> str:
        """The gRPC target the client resolves."""
        return self._base.target

    async def translate(
        self,
        contents: Sequence[str],
        to: str,
        *,
        source: str = "",
        model: str = "",
        options: TranslationOptions | None = None,
        timeout: float | None = None,
    ) -> list[Translation]:
        """Translates texts; see `TranslationClient.translate`."""
        if isinstance(contents, str):
            raise TypeError("contents is a sequence of texts; use translate_text for one text")
        request = convert.translate_request(contents, to, source, model, options)
        response = await self._call(self._stub.TranslateText, request, timeout)
        return [convert.translation(t) for t in response.translations]

    async def translate_text(self, text: str, to: str, **kwargs: Any) -> Translation:
        """Translates one text; keyword arguments as for `translate`."""
        return (await self.translate([text], to, **kwargs))[0]

    async def translate_document(
        self,
        content: bytes,
        to: str,
        *,
        file_name: str = "",
        mime_type: str = "",
        source: str = "",
        model: str = "",
        options: TranslationOptions | None = None,
        progress: Callable[[int, int], None] | None = None,
        timeout: float | None = None,
    ) -> DocumentTranslation:
        """Translates a document; arguments as for `TranslationClient.translate_document`."""
        request = convert.document_request(
            content, to, file_name, mime_type, source, model, options
        )

        async def stream(request: Any, **call_options: Any) -> DocumentTranslation:
            async for message in self._stub.StreamTranslateDocument(request, **call_options):
                result = convert.document_step(message, progress)
                if result is not None:
                    return result
            raise DragomanError(grpc.StatusCode.INTERNAL, convert.NO_DOCUMENT)

        return await self._call(stream, request, timeout)

    async def detect_language(
        self,
        contents: Sequence[str],
        *,
        model: str = "",
        max_candidates: int = 0,
        timeout: float | None = None,
    ) -> list[tuple[DetectedLanguage, ...]]:
        """The candidate languages of each text; see `TranslationClient.detect_language`."""
        request = pb.DetectLanguageRequest(
            contents=list(contents), model=model, max_candidates=max_candidates
        )
        return convert.detections(await self._call(self._stub.DetectLanguage, request, timeout))

    async def list_languages(
        self, model: str = "", *, timeout: float | None = None
    ) -> list[Language]:
        """The languages of a model (the default model when `model` is empty)."""
        request = pb.ListLanguagesRequest(model=model)
        return convert.languages(await self._call(self._stub.ListLanguages, request, timeout))

    async def list_models(self, *, timeout: float | None = None) -> list[Model]:
        """The models the server has loaded."""
        response = await self._call(self._stub.ListModels, pb.ListModelsRequest(), timeout)
        return convert.models(response)

    async def is_serving(self, service: str = "", *, timeout: float | None = None) -> bool:
        """True when grpc.health.v1 says SERVING."""
        request = health_pb2.HealthCheckRequest(service=service)
        try:
            response = await self._call(self._health.Check, request, timeout)
        except DragomanError:
            return False
        return bool(response.status == health_pb2.HealthCheckResponse.SERVING)

    async def wait_until_serving(self, timeout: float = 60.0, interval: float = 0.2) -> None:
        """Polls health until SERVING.

        Raises:
            TimeoutError: Not SERVING within `timeout` seconds.
        """
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if await self.is_serving(timeout=max(0.1, min(5.0, end - time.monotonic()))):
                return
            await asyncio.sleep(interval)
        raise TimeoutError(f"{self.target} is not SERVING after {timeout} s")

    async def translate_stream(
        self,
        segments: SegmentSource,
        to: str,
        *,
        source: str = "",
        model: str = "",
        options: TranslationOptions | None = None,
        interim_results: bool = False,
        timeout: float | None = None,
    ) -> AsyncIterator[StreamResult]:
        """Streams segments in and results out; see `TranslationClient.translate_stream`.

        `segments` may be a plain or an async iterable.
        """
        config = convert.stream_config(to, source, model, options, interim_results)
        ledger = StreamLedger()
        feed = _AsyncFeed(segments, ledger)
        deadline = self._base.deadline(timeout, stream=True)
        self.stats.add(calls=1)
        failures = 0
        while not ledger.finished:
            attempt = Attempt()
            call = self._stub.StreamTranslateText(
                feed.requests(config, attempt), **self._base.call_options(deadline)
            )
            try:
                async for response in call:
                    result = ledger.result(response)
                    if result is not None:
                        failures = 0 if result.is_final else failures
                        yield result
                if not ledger.finished:
                    raise DragomanError(
                        grpc.StatusCode.INTERNAL,
                        f"the server ended the stream with {ledger.pending} segments unanswered",
                    )
            except grpc.RpcError as error:
                if feed.error is not None:
                    raise feed.error from error
                failures += 1
                pause = self._base.stream_backoff(error, failures, deadline, ledger.pending)
                await asyncio.sleep(pause)
            finally:
                attempt.done = True
                call.cancel()
        if feed.error is not None:
            raise feed.error

    async def _call(
        self, method: Callable[..., Awaitable[T]], request: Any, timeout: float | None
    ) -> T:
        deadline = self._base.deadline(timeout)
        self.stats.add(calls=1)
        settings = self._base.settings
        attempts = 0
        try:
            async for attempt in settings.retry.async_retrying(deadline, self.stats):
                with attempt:
                    attempts += 1
                    return await method(request, **self._base.call_options(deadline))
        except grpc.RpcError as error:
            raise from_rpc_error(error, attempts) from error
        raise AssertionError("unreachable: tenacity either returns or raises")

    async def close(self) -> None:
        """Closes the channel."""
        await self._channel.close()

    async def __aenter__(self) -> AsyncTranslationClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
