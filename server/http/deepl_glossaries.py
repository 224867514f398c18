"""DeepL's v2 glossaries, backed by dragoman's stored glossaries (`GlossaryStore`).

A glossary created here is a stored glossary named by its `glossary_id` (a UUID,
which is a valid glossary name), so gRPC requests can use it too
(`glossary_config.glossary`). Its DeepL name, language pair and creation time are kept
in the stored glossary's metadata. Glossaries are shared by every key of the server.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime
from typing import Any

import grpc
from dragoman.engine.errors import InvalidOption
from dragoman.engine.glossary_store import GlossaryInfo, GlossaryNotFound, GlossaryStore
from dragoman.engine.terminology import GlossaryEntry, validate_entries
from dragoman.server.access import LIST_LANGUAGES
from dragoman.server.http.codes import code_book
from dragoman.server.http.deepl import deepl_call
from dragoman.server.http.errors import CallError
from dragoman.server.http.forms import Fields, read_fields
from dragoman.server.http.frontend import Call, Frontend
from dragoman.server.http.schemas import DeepLGlossaries, DeepLGlossary, DeepLGlossaryRequest
from dragoman.server.http.schemas import body_schema as _body
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

DISABLED = (
    "glossaries are not enabled on this server: start it with a glossary directory "
    "(glossary_dir, DRAGOMAN_GLOSSARY_DIR)"
)


def _store(frontend: Frontend) -> GlossaryStore:
    store = frontend.engine.glossaries
    if store is None:
        raise CallError(grpc.StatusCode.FAILED_PRECONDITION, DISABLED)
    return store


def parse_entries(text: str, entries_format: str) -> tuple[GlossaryEntry, ...]:
    """Glossary entries from DeepL's `tsv` (source TAB target) or `csv` format.

    Raises:
        InvalidOption: An unknown format, a malformed line, or invalid entries.
    """
    if entries_format not in ("tsv", "csv"):
        raise InvalidOption(f"Value for 'entries_format' not supported: {entries_format!r}")
    rows: list[list[str]] = (
        list(csv.reader(io.StringIO(text)))
        if entries_format == "csv"
        else [line.split("\t") for line in text.splitlines()]
    )
    entries = []
    for number, row in enumerate(rows, 1):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < 2:
            raise InvalidOption(f"Invalid glossary entries: line {number} has no target term")
        entries.append(GlossaryEntry(row[0].strip(), row[1].strip()))
    if not entries:
        raise InvalidOption("Invalid glossary entries: the glossary has no entries")
    validate_entries(tuple(entries), "entries")
    return tuple(entries)


def _timestamp(info: GlossaryInfo) -> str:
    stored = info.metadata.get("creation_time")
    if stored:
        return stored
    moment = datetime.fromtimestamp(info.modified, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def glossary_json(info: GlossaryInfo) -> dict[str, Any]:
    """A stored glossary as DeepL describes glossaries."""
    meta = info.metadata
    return {
        "glossary_id": info.name,
        "name": meta.get("name", info.name),
        "ready": True,
        "source_lang": meta.get("source_lang", ""),
        "target_lang": meta.get("target_lang", ""),
        "creation_time": _timestamp(info),
        "entry_count": info.entry_count,
    }


def _create(frontend: Frontend, fields: Fields) -> dict[str, Any]:
    store = _store(frontend)
    name = fields.text("name").strip()
    if not name:
        raise InvalidOption("Invalid glossary: name is required")
    book = code_book(frontend.engine.list_languages())
    pair = {}
    for field in ("source_lang", "target_lang"):
        code = fields.text(field).strip()
        resolved = book.resolve(code) if code else None
        if resolved is None:
            raise InvalidOption(f"Value for '{field}' not supported: {code!r}")
        pair[field] = book.deepl(resolved).lower()
    entries = parse_entries(fields.text("entries"), fields.text("entries_format") or "tsv")
    created = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    glossary_id = str(uuid.uuid4())
    store.put(glossary_id, entries, metadata={"name": name, **pair, "creation_time": created})
    return glossary_json(store.info(glossary_id))


def _find(store: GlossaryStore, glossary_id: str) -> GlossaryInfo:
    try:
        return store.info(glossary_id)
    except (GlossaryNotFound, InvalidOption):
        raise CallError(grpc.StatusCode.NOT_FOUND, f"Glossary {glossary_id!r} not found") from None


def routes(frontend: Frontend) -> APIRouter:
    """/v2/glossaries and /v2/glossary-language-pairs."""
    router = APIRouter(prefix="/v2", tags=["DeepL-compatible glossaries"])

    async def authenticated(request: Request, work: Any) -> Any:
        return await deepl_call(frontend, request, LIST_LANGUAGES, work, admission="authenticate")

    @router.post(
        "/glossaries",
        status_code=201,
        response_model=DeepLGlossary,
        openapi_extra=_body(DeepLGlossaryRequest),
        summary="Create a glossary (DeepL)",
    )
    async def create(request: Request) -> JSONResponse:
        """Stores a glossary; its `glossary_id` works in /v2/translate and over gRPC."""
        fields = await read_fields(request)
        body = await authenticated(request, lambda call: _create(frontend, fields))
        return JSONResponse(body, 201)

    @router.get("/glossaries", response_model=DeepLGlossaries, summary="List glossaries (DeepL)")
    async def list_glossaries(request: Request) -> JSONResponse:
        """Every stored glossary."""

        def work(call: Call) -> dict:
            return {"glossaries": [glossary_json(i) for i in _store(frontend).list()]}

        return JSONResponse(await authenticated(request, work))

    @router.get("/glossaries/{glossary_id}", response_model=DeepLGlossary, summary="Get a glossary")
    async def get(request: Request, glossary_id: str) -> JSONResponse:
        """One glossary's description; 404 when there is none."""
        work = lambda call: glossary_json(_find(_store(frontend), glossary_id))  # noqa: E731
        return JSONResponse(await authenticated(request, work))

    @router.get("/glossaries/{glossary_id}/entries", summary="A glossary's entries (TSV)")
    async def entries(request: Request, glossary_id: str) -> Response:
        """The entries as `text/tab-separated-values`."""

        def work(call: Call) -> str:
            store = _store(frontend)
            _find(store, glossary_id)
            glossary = store.get(glossary_id)
            return "\n".join(f"{e.source}\t{e.target}" for e in glossary.entries)

        body = await authenticated(request, work)
        return PlainTextResponse(body, media_type="text/tab-separated-values")

    @router.delete("/glossaries/{glossary_id}", status_code=204, summary="Delete a glossary")
    async def delete(request: Request, glossary_id: str) -> Response:
        """Removes the glossary; 404 when there is none."""

        def work(call: Call) -> None:
            store = _store(frontend)
            _find(store, glossary_id)
            store.delete(glossary_id)

        await authenticated(request, work)
        return Response(status_code=204)

    @router.get("/glossary-language-pairs", summary="Language pairs glossaries support")
    async def pairs(request: Request) -> JSONResponse:
        """Every ordered pair of the model's languages."""

        def work(call: Call) -> dict:
            book = code_book(frontend.engine.list_languages())
            codes = [book.deepl(lang.code).lower() for lang in book.languages]
            return {
                "supported_languages": [
                    {"source_lang": s, "target_lang": t} for s in codes for t in codes if s != t
                ]
            }

        return JSONResponse(await authenticated(request, work))

    return router
