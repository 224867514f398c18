"""The DeepL-compatible subset under /v2: translate, languages, usage (glossaries apart).

What the official `deepl` library and DeepL integrations send: form or JSON bodies,
`text` repeated, `source_lang` optional, `target_lang` like `EN-US`, `PT-BR` or
`ZH-HANS`, `tag_handling` `html`/`xml`, `glossary_id`; `Authorization: DeepL-Auth-Key
KEY`. Errors are `{"message": ...}` with DeepL's codes: 400, 403, 404, 413, 429, and
456 once a key's character budget is spent. `preserve_formatting` and
`split_sentences` are accepted: dragoman always keeps the source's whitespace and
line breaks and translates sentence by sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import grpc
from dragoman.engine.errors import InvalidOption, InvalidRequest
from dragoman.server.access import LIST_LANGUAGES, TRANSLATE_TEXT
from dragoman.server.http import texts
from dragoman.server.http.codes import CodeBook, code_book
from dragoman.server.http.errors import CallError
from dragoman.server.http.forms import Fields, read_fields
from dragoman.server.http.frontend import Call, Frontend, bearer
from dragoman.server.http.schemas import (
    DeepLLanguage,
    DeepLTranslateRequest,
    DeepLTranslation,
    DeepLUsage,
    body_schema,
)
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse

#: DeepL's `tag_handling` values -> mime types.
TAG_HANDLING: dict[str, str] = {"html": "text/html", "xml": "text/xml"}
SPLIT_SENTENCES = ("0", "1", "nonewlines")
#: Formalities a model without formality control can honour ("prefer": best effort).
FORMALITIES = ("default", "prefer_more", "prefer_less")
#: What /v2/usage reports as the limit of a key without a character budget (as DeepL
#: does for accounts without a cost limit), so that clients never see "limit reached".
UNLIMITED = 1_000_000_000_000
_SCHEMES = ("deepl-auth-key ", "bearer ")
NEED_KEY = "this server requires an API key: send the header Authorization: DeepL-Auth-Key KEY"
T = TypeVar("T")


def credentials(request: Request) -> tuple[tuple[str, str], ...]:
    """The key of `Authorization: DeepL-Auth-Key KEY` (or `Bearer KEY`) as gRPC metadata."""
    value = request.headers.get("authorization", "")
    for scheme in _SCHEMES:
        if value[: len(scheme)].lower() == scheme:
            return bearer(value[len(scheme) :].strip())
    return ()


async def deepl_call(
    frontend: Frontend, request: Request, method: str, work: Callable[[Call], T], **kwargs: Any
) -> T:
    """`Frontend.call` with DeepL's credentials; a missing key is explained DeepL's way."""
    metadata = credentials(request)
    try:
        return await frontend.call(request, method, work, metadata=metadata, **kwargs)
    except CallError as error:
        if error.code is grpc.StatusCode.UNAUTHENTICATED and not metadata:
            error.message = NEED_KEY
        raise


def _choice(fields: Fields, name: str, choices: tuple[str, ...] | dict[str, str]) -> str:
    value = fields.text(name).strip().lower()
    if value and value not in choices:
        raise InvalidOption(f"Value for '{name}' not supported; use one of: {', '.join(choices)}")
    return value


def _check_glossary(frontend: Frontend, book: CodeBook, glossary: str, source: str, target: str):
    """Requires a source language with a glossary, and the glossary's language pair."""
    if not source:
        raise InvalidRequest("Use of a glossary requires the source_lang parameter to be specified")
    store = frontend.engine.glossaries
    if store is None:
        raise InvalidRequest("glossary_id given, but this server stores no glossaries")
    meta = store.info(glossary).metadata
    for role, code, field in (("source", source, "source_lang"), ("target", target, "target_lang")):
        stored = meta.get(field)
        if stored and book.resolve(stored) != book.resolve(code):
            raise InvalidRequest(
                f"glossary {glossary} is for {meta.get('source_lang')}->{meta.get('target_lang')}"
                f"; its {role} language does not match {code}"
            )


def translate_job(frontend: Frontend, fields: Fields) -> tuple[texts.TextJob, str]:
    """The engine job of a /v2/translate request, and its glossary id."""
    items, _ = texts.text_list(fields.getlist("text") or None, "text")
    target = fields.text("target_lang").strip()
    if not target:
        raise InvalidRequest("Value for 'target_lang' not supported: target_lang is required")
    source = fields.text("source_lang").strip()
    _choice(fields, "split_sentences", SPLIT_SENTENCES)
    _choice(fields, "formality", FORMALITIES)
    fields.flag("preserve_formatting")
    mime = TAG_HANDLING.get(_choice(fields, "tag_handling", TAG_HANDLING), "")
    glossary = fields.text("glossary_id").strip()
    return texts.TextJob(items, "text", source, target, mime, glossary=glossary), glossary


def routes(frontend: Frontend) -> APIRouter:
    """The DeepL-compatible routes (glossaries are in `deepl_glossaries`)."""
    router = APIRouter(prefix="/v2", tags=["DeepL-compatible"])

    async def call(request: Request, method: str, work: Callable[[Call], T], **kwargs: Any) -> T:
        return await deepl_call(frontend, request, method, work, **kwargs)

    @router.post(
        "/translate",
        response_model=DeepLTranslation,
        openapi_extra=body_schema(DeepLTranslateRequest),
        summary="Translate texts (DeepL)",
    )
    async def translate(request: Request) -> JSONResponse:
        """Translates every `text` into `target_lang`."""
        fields = await read_fields(request)

        def work(call: Call) -> dict:
            job, glossary = translate_job(frontend, fields)
            if glossary:
                book = code_book(frontend.engine.list_languages())
                _check_glossary(frontend, book, glossary, job.source, job.target)
            result = texts.translate(frontend, call, job)
            return {
                "translations": [
                    {
                        "detected_source_language": result.book.deepl(t.source_language),
                        "text": t.text,
                        "billed_characters": len(source),
                    }
                    for t, source in zip(result.translations, job.texts, strict=True)
                ]
            }

        characters = texts.characters(fields.getlist("text"))
        body = await call(request, TRANSLATE_TEXT, work, characters=characters)
        return JSONResponse(body)

    @router.get("/languages", response_model=list[DeepLLanguage], summary="Languages (DeepL)")
    @router.post("/languages", response_model=list[DeepLLanguage], operation_id="languages_post")
    async def languages(request: Request) -> JSONResponse:
        """`type=source` (default) or `type=target`."""
        fields = await read_fields(request)
        kind = fields.text("type").strip().lower() or "source"
        if kind not in ("source", "target"):
            raise CallError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "Value for 'type' not supported; use source or target",
            )

        def work(call: Call) -> list[dict[str, Any]]:
            book = code_book(frontend.engine.list_languages())
            if kind == "source":
                return [
                    {"language": book.deepl(lang.code), "name": lang.display_name}
                    for lang in book.languages
                ]
            out = []
            for lang in book.languages:
                variants = book.deepl_targets(lang.code)
                for code in variants:
                    name = (
                        lang.display_name if len(variants) == 1 else f"{lang.display_name} ({code})"
                    )
                    out.append({"language": code, "name": name, "supports_formality": False})
            return out

        body = await call(request, LIST_LANGUAGES, work, admission="authenticate")
        return JSONResponse(body)

    @router.get("/usage", response_model=DeepLUsage, summary="Usage (DeepL)")
    @router.post("/usage", response_model=DeepLUsage, operation_id="usage_post")
    async def usage(request: Request) -> JSONResponse:
        """Characters used in the current rate-limit window, and the key's budget."""

        def work(call: Call) -> dict[str, int]:
            used, limit = frontend.access.usage(call.principal)
            return {"character_count": used, "character_limit": limit or UNLIMITED}

        body = await call(request, TRANSLATE_TEXT, work, admission="authenticate")
        return JSONResponse(body)

    return router
