"""The LibreTranslate-compatible API at the root: /translate, /detect, /languages, ...

Field by field as LibreTranslate documents it: JSON or form bodies, `q` a string or an
array, `source` a code or `auto`, `format` `text` or `html`, `alternatives`, `api_key`
in the body; `translatedText` (a string or an array), `detectedLanguage` when the
source was `auto` (confidence 0 to 100), `alternatives`; errors `{"error": "..."}`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import grpc
from dragoman.engine import validation
from dragoman.engine.errors import InvalidRequest
from dragoman.server.access import DETECT_LANGUAGE, LIST_LANGUAGES, TRANSLATE_TEXT
from dragoman.server.http import texts
from dragoman.server.http.codes import AUTO, code_book
from dragoman.server.http.errors import CallError
from dragoman.server.http.forms import Fields, read_fields
from dragoman.server.http.frontend import Call, Frontend, bearer
from dragoman.server.http.libre_files import supported_extensions
from dragoman.server.http.schemas import (
    LibreDetection,
    LibreLanguage,
    LibreSettings,
    LibreTranslateRequest,
    LibreTranslation,
    body_schema,
)
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse

T = TypeVar("T")
#: LibreTranslate's `format` values -> mime types.
FORMATS: dict[str, str] = {"text": "text/plain", "html": "text/html"}
#: What a caller without a key is told when the server requires keys.
NEED_KEY = (
    "Please contact the server operator to get an API key: this server requires one, sent as "
    "the api_key field"
)


def _format(fields: Fields) -> str:
    name = fields.text("format") or "text"
    if name not in FORMATS:
        raise InvalidRequest(f"{name} format is not supported; use one of: {', '.join(FORMATS)}")
    return FORMATS[name]


def _required(fields: Fields, name: str) -> str:
    value = fields.text(name).strip()
    if not value:
        raise InvalidRequest(f"Invalid request: missing {name} parameter")
    return value


def _detected(book: Any, code: str, confidence: float) -> dict[str, Any]:
    return {"language": book.libre(code), "confidence": round(confidence * 100, 1)}


def translate_body(result: texts.TextResult, batch: bool, alternatives: int) -> dict:
    """The /translate response for `result`."""
    items = range(len(result.translations))
    translated = [result.translations[i].text for i in items]
    body: dict[str, Any] = {"translatedText": translated if batch else translated[0]}
    if result.confidence:
        detected = [
            _detected(result.book, result.translations[i].source_language, result.confidence[i])
            for i in items
        ]
        body["detectedLanguage"] = detected if batch else detected[0]
    if alternatives:
        alts = [result.alternatives(i, alternatives) for i in items]
        body["alternatives"] = alts if batch else alts[0]
    return body


def routes(frontend: Frontend) -> APIRouter:
    """The LibreTranslate-compatible routes, served by `frontend`."""
    router = APIRouter(tags=["LibreTranslate-compatible"])

    async def keyed_call(
        request: Request, method: str, work: Callable[[Call], T], fields: Fields, characters: int
    ) -> T:
        """A call with the body's `api_key`; key errors as LibreTranslate words them."""
        key = fields.text("api_key")
        try:
            return await frontend.call(
                request, method, work, metadata=bearer(key), characters=characters
            )
        except CallError as error:
            if error.code is grpc.StatusCode.UNAUTHENTICATED:
                if key:
                    error.http_status = 403  # LibreTranslate: "Invalid API key"
                else:
                    error.message = NEED_KEY
            raise

    @router.post(
        "/translate",
        response_model=LibreTranslation,
        openapi_extra=body_schema(LibreTranslateRequest),
        summary="Translate text (LibreTranslate)",
    )
    async def translate(request: Request) -> JSONResponse:
        """Translates `q` (a string or an array) from `source` (or `auto`) into `target`."""
        fields = await read_fields(request)
        q = fields.get("q")

        def work(call: Call) -> dict:
            source, target = _required(fields, "source"), _required(fields, "target")
            items, batch = texts.text_list(q, "q")
            alternatives = fields.integer("alternatives")
            job = texts.TextJob(
                items, "q", "" if source == AUTO else source, target, _format(fields),
                max(alternatives, 0),
            )  # fmt: skip
            result = texts.translate(frontend, call, job)
            return translate_body(result, batch, max(alternatives, 0))

        body = await keyed_call(request, TRANSLATE_TEXT, work, fields, texts.characters(q))
        return JSONResponse(body)

    @router.post(
        "/detect",
        response_model=list[LibreDetection],
        openapi_extra=body_schema(fields={"q": "string", "api_key": "string"}),
        summary="Detect the language of a text (LibreTranslate)",
    )
    async def detect(request: Request) -> JSONResponse:
        """Language candidates of `q`, most likely first (confidence 0 to 100)."""
        fields = await read_fields(request)
        q = fields.get("q")

        def work(call: Call) -> list[dict]:
            items, _ = texts.text_list(q, "q")
            joined = "\n".join(items)
            validation.check_contents([joined], frontend.engine.limits, "q")
            (candidates,) = frontend.engine.detect_language([joined], "", 3)
            book = code_book(frontend.engine.list_languages())
            return [
                {"confidence": round(c.confidence * 100, 1),
                 "language": book.libre(c.code) if c.supported else c.code}
                for c in candidates
            ]  # fmt: skip

        body = await keyed_call(request, DETECT_LANGUAGE, work, fields, texts.characters(q))
        return JSONResponse(body)

    @router.get(
        "/languages",
        response_model=list[LibreLanguage],
        summary="Languages the served model translates (LibreTranslate)",
    )
    async def languages(request: Request) -> JSONResponse:
        """Every language of the default model, with the codes it translates into.

        Open to everyone, as LibreTranslate's is: clients list languages before they
        have a key to use.
        """

        def work(call: Call) -> list[dict]:
            book = code_book(frontend.engine.list_languages())
            codes = [book.libre(lang.code) for lang in book.languages]
            return [
                {"code": code, "name": lang.display_name,
                 "targets": [t for t in codes if t != code]}
                for code, lang in zip(codes, book.languages, strict=True)
            ]  # fmt: skip

        return JSONResponse(await frontend.call(request, LIST_LANGUAGES, work, admission="open"))

    @router.get(
        "/frontend/settings",
        response_model=LibreSettings,
        summary="Settings for LibreTranslate front ends",
    )
    async def frontend_settings(request: Request) -> JSONResponse:
        """Character limit, whether keys are needed, and the default language pair."""

        def work(call: Call) -> dict:
            book = code_book(frontend.engine.list_languages())
            codes = [lang.code for lang in book.languages]
            target = next((c for c in codes if book.libre(c) != "en"), codes[0])
            return {
                "charLimit": frontend.limits.max_text_chars,
                "frontendTimeout": frontend.frontend_timeout_ms,
                "apiKeys": frontend.auth_required,
                "keyRequired": frontend.auth_required,
                "suggestions": False,
                "filesTranslation": True,
                "supportedFilesFormat": supported_extensions(),
                "language": {
                    "source": {"code": AUTO, "name": "Auto Detect"},
                    "target": {"code": book.libre(target), "name": book.name(target)},
                },
            }

        return JSONResponse(await frontend.call(request, LIST_LANGUAGES, work, admission="open"))

    return router
