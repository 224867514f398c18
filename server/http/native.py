"""The native JSON API under /v1: the gRPC API's unary RPCs, with the proto's JSON mapping.

Bodies are the RPCs' request messages in proto3 JSON (`google.protobuf.json_format`,
so `targetLanguageCode` and `target_language_code` both parse) and answers are their
response messages. Each call runs the gRPC servicer's own method, so validation,
defaults and errors are the gRPC API's; errors carry the canonical code's name.
Credentials: `Authorization: Bearer <key>`, as the gRPC metadata.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn, cast

import grpc
from dragoman.server.access import DETECT_LANGUAGE, LIST_LANGUAGES, LIST_MODELS, TRANSLATE_TEXT
from dragoman.server.http.errors import CallError
from dragoman.server.http.frontend import Call, Frontend
from dragoman.server.metrics import LABELERS
from dragoman.server.servicer import TranslationServicer
from fastapi import APIRouter
from google.protobuf import json_format
from google.protobuf.message import Message
from starlette.requests import Request
from starlette.responses import Response

from dragoman.translation.v1 import translation_service_pb2 as pb


class HttpServicerContext:
    """The part of `grpc.ServicerContext` the servicer uses, for a call over HTTP.

    `abort` raises the `CallError` the HTTP API answers with; cancellation callbacks
    run when the HTTP client disconnects.
    """

    def __init__(self, call: Call) -> None:
        self._call = call
        self._code: grpc.StatusCode | None = None

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        """The call's credentials and routing key, as gRPC metadata."""
        return self._call.metadata

    def time_remaining(self) -> float | None:
        """HTTP calls carry no deadline."""
        return None

    def add_callback(self, callback: Callable[[], None]) -> bool:
        """Runs `callback` when the client goes away."""
        self._call.cancel_callbacks.append(callback)
        return True

    def code(self) -> grpc.StatusCode | None:
        """The code `abort` ended the call with, if it did."""
        return self._code

    def abort(self, code: grpc.StatusCode, details: str) -> NoReturn:
        """Ends the call with `code`."""
        self._code = code
        raise CallError(code, details)

    def abort_with_status(self, status: grpc.Status) -> NoReturn:
        """Ends the call with a rich status (its `retry-after` trailer kept)."""
        self._code = status.code
        trailers = dict(status.trailing_metadata or ())
        retry = trailers.get("retry-after")
        retry_s = float(retry) if isinstance(retry, str) and retry.isdigit() else None
        raise CallError(status.code, status.details, retry_after_s=retry_s)


def servicer_context(call: Call) -> grpc.ServicerContext:
    """The servicer's view of an HTTP call."""
    return cast(grpc.ServicerContext, HttpServicerContext(call))


def _parse(body: bytes, message: Message) -> Message:
    try:
        return json_format.Parse(body or b"{}", message)
    except (json_format.ParseError, UnicodeDecodeError) as error:
        raise CallError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"the body is not a valid {message.DESCRIPTOR.name} in proto3 JSON: {error}",
        ) from None


def _json(message: Message) -> Response:
    body = json_format.MessageToJson(message, ensure_ascii=False, indent=None)
    return Response(body, media_type="application/json")


def _bearer(request: Request) -> tuple[tuple[str, str], ...]:
    value = request.headers.get("authorization")
    return (("authorization", value),) if value else ()


def routes(frontend: Frontend, servicer: TranslationServicer) -> APIRouter:
    """The /v1 routes, running `servicer`'s methods for `frontend`."""
    router = APIRouter(prefix="/v1", tags=["native JSON (the gRPC API)"])

    async def unary(request: Request, method: str, message: Message, rpc: Callable) -> Response:
        labeler = LABELERS.get(method)

        def work(call: Call) -> Message:
            response: Message = rpc(message, servicer_context(call))
            if labeler is not None:
                call.labels = labeler(message, response)
            return response

        characters = sum(len(t) for t in getattr(message, "contents", ()))
        response = await frontend.call(
            request, method, work, metadata=_bearer(request), characters=characters
        )
        return _json(response)

    @router.post("/translate", summary="TranslateText", openapi_extra=_schema("TranslateText"))
    async def translate(request: Request) -> Response:
        """TranslateTextRequest in, TranslateTextResponse out."""
        message = _parse(await request.body(), pb.TranslateTextRequest())
        return await unary(request, TRANSLATE_TEXT, message, servicer.TranslateText)

    @router.post("/detect", summary="DetectLanguage", openapi_extra=_schema("DetectLanguage"))
    async def detect(request: Request) -> Response:
        """DetectLanguageRequest in, DetectLanguageResponse out."""
        message = _parse(await request.body(), pb.DetectLanguageRequest())
        return await unary(request, DETECT_LANGUAGE, message, servicer.DetectLanguage)

    @router.get("/languages", summary="ListLanguages")
    async def languages(request: Request, model: str = "") -> Response:
        """ListLanguagesResponse of `model` (default model when empty)."""
        message = pb.ListLanguagesRequest(model=model)
        return await unary(request, LIST_LANGUAGES, message, servicer.ListLanguages)

    @router.get("/models", summary="ListModels")
    async def models(request: Request) -> Response:
        """ListModelsResponse."""
        return await unary(request, LIST_MODELS, pb.ListModelsRequest(), servicer.ListModels)

    return router


def _schema(rpc: str) -> dict[str, Any]:
    """OpenAPI: the request is the RPC's request message in proto3 JSON."""
    request = pb.DESCRIPTOR.services_by_name["TranslationService"].methods_by_name[rpc].input_type
    fields = {
        field.json_name: {"description": f"proto field `{field.name}`"} for field in request.fields
    }
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "object", "title": request.name, "properties": fields}
                }
            },
        }
    }
