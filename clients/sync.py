"""The blocking client: `TranslationClient`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import grpc
from dragoman.clients import convert
from dragoman.clients.base import ClientBase, ClientSettings
from dragoman.clients.errors import DragomanError, from_rpc_error
from dragoman.clients.retry import ClientStats
from dragoman.clients.stream import Attempt, StreamLedger, SyncFeed
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


class TranslationClient:
    """Calls a dragoman server (or several, balanced round-robin).

    Every call has a deadline (30 s by default, retries included) and is retried with
    jittered exponential backoff on UNAVAILABLE and RESOURCE_EXHAUSTED only; other
    failures raise the matching `DragomanError` subclass at once.

    Example:
        >>> with TranslationClient(["10.0.0.1:50051", "10.0.0.2:50051"]) as client:
        ...     client.translate_text("Hello.", to="fr").text

    Args:
        address: `host:port`, several of them (list or comma-separated), or a gRPC
            target such as `dns:///dragoman-headless.ns.svc.cluster.local:50051`.
        **kwargs: Passed to `ClientSettings.build`: `api_key`, `tls` (a TlsConfig, or
            True for the system's roots), `timeout`, `stream_timeout`, `retry`,
            `keepalive`, `load_balancing`, `health_check_service`, `wait_for_ready`,
            `metadata`.
    """

    def __init__(self, address: str | Sequence[str], **kwargs: Any) -> None:
        self._base = ClientBase(ClientSettings.build(address, **kwargs))
        self._channel: grpc.Channel = self._base.settings.channel.open(grpc)
        self._stub = pb_grpc.TranslationServiceStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)

    @property
    def stats(self) -> ClientStats:
        """Counters: calls, retries, stream reconnects (`ClientStats`)."""
        return self._base.stats

    @property
    def target(self) -> str:
        """The gRPC target the client resolves."""
        return self._base.target

    def translate(
        self,
        contents: Sequence[str],
        to: str,
        *,
        source: str = "",
        model: str = "",
        options: TranslationOptions | None = None,
        timeout: float | None = None,
    ) -> list[Translation]:
        """Translates texts; returns one Translation per text, in order.

        Args:
            contents: The texts.
            to: Target language (model code or BCP-47 alias).
            source: Source language; empty detects it per text.
            model: Model name; empty is the server's default.
            options: Decoding options.
            timeout: Deadline in seconds, retries included; None is the client's default.

        Raises:
            DragomanError: The subclass for the status code (InvalidArgument, ...).
        """
        if isinstance(contents, str):
            raise TypeError("contents is a sequence of texts; use translate_text for one text")
        request = convert.translate_request(contents, to, source, model, options)
        response = self._call(self._stub.TranslateText, request, timeout)
        return [convert.translation(t) for t in response.translations]

    def translate_text(self, text: str, to: str, **kwargs: Any) -> Translation:
        """Translates one text; keyword arguments as for `translate`."""
        return self.translate([text], to, **kwargs)[0]

    def translate_document(
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
        """Translates a document (StreamTranslateDocument); returns it in the same format.

        Args:
            content: The file's bytes.
            to: Target language.
            file_name: The file's name; its extension names the format when
                `mime_type` is empty.
            mime_type: The file's format.
            source: Source language; empty detects it once for the document.
            model: Model name; empty is the server's default.
            options: Decoding options and terminology (`mime_type` is not used).
            progress: Called with (segments translated, segments in all) as the server
                reports progress.
            timeout: Deadline in seconds, retries included.

        Raises:
            DragomanError: The subclass for the status code (InvalidArgument for a
                file the server refuses, with the reason).
        """
        request = convert.document_request(
            content, to, file_name, mime_type, source, model, options
        )

        def stream(request: Any, **call_options: Any) -> DocumentTranslation:
            for message in self._stub.StreamTranslateDocument(request, **call_options):
                result = convert.document_step(message, progress)
                if result is not None:
                    return result
            raise DragomanError(grpc.StatusCode.INTERNAL, convert.NO_DOCUMENT)

        return self._call(stream, request, timeout)

    def detect_language(
        self,
        contents: Sequence[str],
        *,
        model: str = "",
        max_candidates: int = 0,
        timeout: float | None = None,
    ) -> list[tuple[DetectedLanguage, ...]]:
        """The candidate languages of each text, most likely first.

        Args:
            contents: The texts.
            model: Model whose language codes the candidates are mapped to.
            max_candidates: Candidates per text, 1 to 10; 0 is the server's default (3).
            timeout: Deadline in seconds, retries included.
        """
        request = pb.DetectLanguageRequest(
            contents=list(contents), model=model, max_candidates=max_candidates
        )
        return convert.detections(self._call(self._stub.DetectLanguage, request, timeout))

    def list_languages(self, model: str = "", *, timeout: float | None = None) -> list[Language]:
        """The languages of a model (the default model when `model` is empty)."""
        request = pb.ListLanguagesRequest(model=model)
        return convert.languages(self._call(self._stub.ListLanguages, request, timeout))

    def list_models(self, *, timeout: float | None = None) -> list[Model]:
        """The models the server has loaded."""
        return convert.models(self._call(self._stub.ListModels, pb.ListModelsRequest(), timeout))

    def is_serving(self, service: str = "", *, timeout: float | None = None) -> bool:
        """True when grpc.health.v1 says SERVING (the model is loaded and warm)."""
        request = health_pb2.HealthCheckRequest(service=service)
        try:
            response = self._call(self._health.Check, request, timeout)
        except DragomanError:
            return False
        return bool(response.status == health_pb2.HealthCheckResponse.SERVING)

    def wait_until_serving(self, timeout: float = 60.0, interval: float = 0.2) -> None:
        """Polls health until SERVING.

        Raises:
            TimeoutError: Not SERVING within `timeout` seconds.
        """
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.is_serving(timeout=max(0.1, min(5.0, end - time.monotonic()))):
                return
            time.sleep(interval)
        raise TimeoutError(f"{self.target} is not SERVING after {timeout} s")

    def translate_stream(
        self,
        segments: Iterable[str | Segment],
        to: str,
        *,
        source: str = "",
        model: str = "",
        options: TranslationOptions | None = None,
        interim_results: bool = False,
        timeout: float | None = None,
    ) -> Iterator[StreamResult]:
        """Streams segments in and results out (StreamTranslateText).

        Segments are read from `segments` as the server asks for them, so it may be a
        live, blocking source. Every segment gets one final result (`is_final`), and
        interim ones before it when `interim_results` is set. If the server goes
        away, the stream is reopened (on another server with round_robin) and the
        unanswered segments are sent again; a segment may then repeat interim results
        but never its final one.

        Args:
            segments: Texts or `Segment`s (with the caller's ids).
            to: Target language.
            source: Source language; empty detects it per segment.
            model: Model name; empty is the server's default.
            options: Decoding options.
            interim_results: Also yield partial translations.
            timeout: Deadline of the whole stream; None is the client's stream default.

        Yields:
            StreamResult per response, finals in the order the server finishes them.

        Raises:
            DragomanError: A non-retryable error, or retries exhausted.
            Exception: Whatever `segments` raised, after the segments before it are
                answered.
        """
        config = convert.stream_config(to, source, model, options, interim_results)
        ledger = StreamLedger()
        feed = SyncFeed(iter(segments), ledger)
        deadline = self._base.deadline(timeout, stream=True)
        self.stats.add(calls=1)
        failures = 0
        while not ledger.finished:
            attempt = Attempt()
            call = self._stub.StreamTranslateText(
                feed.requests(config, attempt), **self._base.call_options(deadline)
            )
            try:
                for response in call:
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
                time.sleep(self._base.stream_backoff(error, failures, deadline, ledger.pending))
            finally:
                attempt.done = True
                call.cancel()
        if feed.error is not None:
            raise feed.error

    def _call(self, method: Callable[..., T], request: Any, timeout: float | None) -> T:
        """One unary call with the deadline, metadata and retries."""
        deadline = self._base.deadline(timeout)
        self.stats.add(calls=1)
        settings = self._base.settings
        attempts = 0
        try:
            for attempt in settings.retry.retrying(deadline, self.stats):
                with attempt:
                    attempts += 1
                    return method(request, **self._base.call_options(deadline))
        except grpc.RpcError as error:
            raise from_rpc_error(error, attempts) from error
        raise AssertionError("unreachable: tenacity either returns or raises")

    def close(self) -> None:
        """Closes the channel; calls in flight are cancelled."""
        self._channel.close()

    def __enter__(self) -> TranslationClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
