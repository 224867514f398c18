"""The TranslationService servicer: validates at the edge, calls the engine, converts."""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Iterator, Mapping

import grpc
from dragoman.engine.documents import DocumentTranslator
from dragoman.engine.errors import DeadlineExceeded, InvalidRequest
from dragoman.engine.service import TranslationEngine
from dragoman.engine.types import CallContext
from dragoman.server import document_wire, wire
from dragoman.server.errors import engine_errors
from dragoman.server.interceptors import current_request_id
from dragoman.server.settings import LimitSettings

from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc

logger = logging.getLogger(__name__)

#: Request metadata naming the caller for sticky routing between model versions.
ROUTING_KEY_HEADER = "x-dragoman-routing-key"
# grpc reports "no deadline" as a remaining time of years (or infinity).
_NO_DEADLINE_S = 1e8


class TranslationServicer(pb_grpc.TranslationServiceServicer):
    """Serves dragoman.translation.v1.TranslationService from a TranslationEngine."""

    def __init__(self, engine: TranslationEngine, limits: LimitSettings) -> None:
        """Serves `engine`, refusing requests beyond `limits`."""
        self._engine = engine
        self._limits = limits
        self._documents = DocumentTranslator(engine)

    def TranslateText(
        self, request: pb.TranslateTextRequest, context: grpc.ServicerContext
    ) -> pb.TranslateTextResponse:
        """Translates every text of the request, in order."""
        request_id = current_request_id()
        with engine_errors(context, request_id):
            ctx = self._call_context(context, request_id)
            domain = wire.request_from_proto(request)
            translations = self._engine.translate(domain, ctx)
            return wire.response_to_proto(translations, domain.options)

    def StreamTranslateText(
        self,
        request_iterator: Iterator[pb.StreamTranslateTextRequest],
        context: grpc.ServicerContext,
    ) -> Iterator[pb.StreamTranslateTextResponse]:
        """Reads the config, then answers each segment as it arrives."""
        request_id = current_request_id()
        with engine_errors(context, request_id):
            ctx = self._call_context(context, request_id)
            config = wire.stream_config_from_proto(_stream_config(next(request_iterator, None)))
            self._engine.check_stream(config)  # a bad config fails before any segment
            # One version answers the whole stream, even if the split changes meanwhile.
            with self._engine.pin(config.model, ctx) as ctx:
                for index, message in enumerate(request_iterator, start=1):
                    segment = _stream_segment(message, index)
                    where = (
                        f"segment {segment.segment_id!r}"
                        if segment.segment_id
                        else f"segment {index}"
                    )
                    for update in self._engine.stream_segment(
                        segment.segment_id, segment.text, config, ctx, where
                    ):
                        yield wire.update_to_proto(update)

    def ListLanguages(
        self, request: pb.ListLanguagesRequest, context: grpc.ServicerContext
    ) -> pb.ListLanguagesResponse:
        """The languages of the requested (or default) model."""
        self._require_ready(context)
        with engine_errors(context, current_request_id()):
            return wire.languages_to_proto(self._engine.list_languages(request.model.strip()))

    def ListModels(
        self, request: pb.ListModelsRequest, context: grpc.ServicerContext
    ) -> pb.ListModelsResponse:
        """The loaded models."""
        self._require_ready(context)
        with engine_errors(context, current_request_id()):
            return wire.models_to_proto(self._engine.list_models())

    def DetectLanguage(
        self, request: pb.DetectLanguageRequest, context: grpc.ServicerContext
    ) -> pb.DetectLanguageResponse:
        """Language candidates of each text, mapped to the model's codes."""
        self._require_ready(context)
        with engine_errors(context, current_request_id()):
            detections = self._engine.detect_language(
                list(request.contents), request.model.strip(), request.max_candidates
            )
            return wire.detections_to_proto(detections)

    def TranslateDocument(
        self, request: pb.TranslateDocumentRequest, context: grpc.ServicerContext
    ) -> pb.TranslateDocumentResponse:
        """Translates a document into the same format."""
        request_id = current_request_id()
        with engine_errors(context, request_id):
            ctx = self._call_context(context, request_id)
            result = self._documents.translate(document_wire.request_from_proto(request), ctx)
            return document_wire.response_to_proto(result, self._limits)

    def StreamTranslateDocument(
        self, request: pb.StreamTranslateDocumentRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.StreamTranslateDocumentResponse]:
        """Translates a document, sending progress after each wave and the document last."""
        request_id = current_request_id()
        with engine_errors(context, request_id):
            ctx = self._call_context(context, request_id)
            domain = document_wire.request_from_proto(request.request)
            for step in self._documents.steps(domain, ctx):
                yield document_wire.step_to_proto(step, self._limits)

    def _require_ready(self, context: grpc.ServicerContext) -> None:
        """Refuses RPCs with UNAVAILABLE while the models load or the engine drains."""
        if not self._engine.ready:
            context.abort(
                grpc.StatusCode.UNAVAILABLE,
                "the server is not ready: its models are still loading or it is shutting "
                "down; retry shortly (grpc.health.v1 reports SERVING when it is ready)",
            )

    def _call_context(self, context: grpc.ServicerContext, request_id: str) -> CallContext:
        """The engine's view of the caller: deadline, cancellation, request id.

        Raises:
            DeadlineExceeded: Too little time is left to do anything useful.
        """
        self._require_ready(context)
        remaining = context.time_remaining()
        deadline = None
        if remaining is not None and not math.isinf(remaining) and remaining < _NO_DEADLINE_S:
            minimum_ms = self._limits.min_deadline_ms
            if remaining * 1000 < minimum_ms:
                raise DeadlineExceeded(
                    f"the request's deadline leaves {remaining * 1000:.1f} ms; allow at least "
                    f"{minimum_ms:g} ms (a translation takes tens of milliseconds or more)"
                )
            deadline = time.monotonic() + remaining
        ctx = CallContext(deadline=deadline, request_id=request_id,
                          routing_key=_routing_key(context))  # fmt: skip
        if not context.add_callback(ctx.cancelled.set):
            ctx.cancelled.set()  # the RPC already ended
        return ctx


def _routing_key(context: grpc.ServicerContext) -> str:
    return routing_key(dict(context.invocation_metadata() or ()))


def routing_key(metadata: Mapping[str, str | bytes]) -> str:
    """Who the caller is for sticky routing: the routing key header, else a hash of the
    API key (the secret itself never leaves the interceptors); "" for neither."""
    explicit = metadata.get(ROUTING_KEY_HEADER, "")
    if explicit:
        return str(explicit)[:256]
    credential = metadata.get("authorization", "")
    return hashlib.sha256(str(credential).encode()).hexdigest() if credential else ""


def _stream_config(
    message: pb.StreamTranslateTextRequest | None,
) -> pb.StreamingTranslationConfig:
    """The config from a stream's first message.

    Raises:
        InvalidRequest: The stream is empty or starts with something else.
    """
    if message is None or message.WhichOneof("streaming_request") != "config":
        got = "nothing" if message is None else message.WhichOneof("streaming_request")
        raise InvalidRequest(
            f"the first message of a stream must carry `config` (got {got}): send "
            "{config: {target_language_code: ...}} first, then segments"
        )
    return message.config


def _stream_segment(message: pb.StreamTranslateTextRequest, index: int) -> pb.TranslationSegment:
    """The segment of a stream's later message.

    Raises:
        InvalidRequest: The message is not a segment.
    """
    if message.WhichOneof("streaming_request") != "segment":
        raise InvalidRequest(
            f"message {index} of the stream must carry `segment`; only the first message "
            "carries `config` (open a new stream to change it)"
        )
    return message.segment
