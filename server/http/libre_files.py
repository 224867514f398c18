"""LibreTranslate's file translation: POST /translate_file, then GET /download_file/NAME.

The upload (multipart: `file`, `source` or `auto`, `target`, `api_key`) is translated by
the gRPC servicer's TranslateDocument (the document layer of the engine: same formats,
checks and limits as gRPC); the answer is `{"translatedFileUrl": ...}` as
LibreTranslate's, and the file waits there in memory for a while (bounded in bytes and
time: a download that comes too late gets 404 and the upload can be sent again).
"""

from __future__ import annotations

import re
import secrets
import threading
from typing import Any

import grpc
from cachetools import TTLCache
from dragoman.engine.documents import registered_formats
from dragoman.server.http.codes import AUTO
from dragoman.server.http.errors import CallError
from dragoman.server.http.frontend import Call, Frontend, bearer
from dragoman.server.http.native import servicer_context
from dragoman.server.servicer import TranslationServicer
from fastapi import APIRouter
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dragoman.translation.v1 import translation_service_pb2 as pb

TRANSLATE_DOCUMENT = "/dragoman.translation.v1.TranslationService/TranslateDocument"
#: How long a translated file waits for its download, and how many bytes all of them hold.
KEEP_S = 15 * 60
KEEP_BYTES = 256 * 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def supported_extensions() -> list[str]:
    """Every file extension the document layer translates (`.docx`, `.srt`, ...)."""
    return sorted({ext for fmt in registered_formats() for ext in fmt.extensions})


def _bad(message: str) -> CallError:
    return CallError(grpc.StatusCode.INVALID_ARGUMENT, message)


class TranslatedFiles:
    """Translated files waiting for their download, bounded in bytes and time."""

    def __init__(self, keep_s: float = KEEP_S, keep_bytes: int = KEEP_BYTES) -> None:
        self._files: TTLCache[str, tuple[str, str, bytes]] = TTLCache(
            maxsize=keep_bytes, ttl=keep_s, getsizeof=lambda item: max(1, len(item[2]))
        )
        self._lock = threading.Lock()

    def put(self, file_name: str, mime_type: str, content: bytes) -> str:
        """Keeps a file; returns the name to download it by."""
        safe = _UNSAFE.sub("_", file_name).strip("._") or "document"
        name = f"{secrets.token_urlsafe(16)}.{safe}"
        with self._lock:
            self._files[name] = (safe, mime_type, content)
        return name

    def get(self, name: str) -> tuple[str, str, bytes] | None:
        """(file name, mime type, content) of a kept file, None once gone."""
        with self._lock:
            return self._files.get(name)


def routes(frontend: Frontend, servicer: TranslationServicer) -> APIRouter:
    """/translate_file and /download_file, served by `frontend` and `servicer`."""
    router = APIRouter(tags=["LibreTranslate-compatible"])
    files = TranslatedFiles()

    @router.post("/translate_file", summary="Translate a file (LibreTranslate)")
    async def translate_file(request: Request) -> JSONResponse:
        """Multipart `file`, `source` (or `auto`), `target`, `api_key`."""
        form = await request.form(max_files=1, max_fields=16, max_part_size=KEEP_BYTES)
        upload = form.get("file")
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        if not isinstance(upload, UploadFile):
            raise _bad("Invalid request: missing file parameter")
        content = await upload.read()
        source = fields.get("source", "").strip()
        message = pb.TranslateDocumentRequest(
            document=pb.Document(content=content, file_name=upload.filename or ""),
            source_language_code="" if source == AUTO else source,
            target_language_code=fields.get("target", "").strip(),
        )
        for name in ("source", "target"):
            if not fields.get(name, "").strip():
                raise _bad(f"Invalid request: missing {name} parameter")

        def work(call: Call) -> dict[str, Any]:
            result = servicer.TranslateDocument(message, servicer_context(call))
            document = result.document
            name = files.put(document.file_name or "document", document.mime_type,
                             document.content)  # fmt: skip
            return {"translatedFileUrl": str(request.url_for("download_file", name=name))}

        key = fields.get("api_key", "")
        body = await frontend.call(request, TRANSLATE_DOCUMENT, work, metadata=bearer(key))
        return JSONResponse(body)

    @router.get("/download_file/{name}", name="download_file", summary="Download a translation")
    async def download_file(name: str) -> Response:
        """A file /translate_file translated (kept for 15 minutes)."""
        kept = files.get(name)
        if kept is None:
            raise _bad("Invalid filename: no such translated file (it may have expired)")
        file_name, mime_type, content = kept
        headers = {"Content-Disposition": f'attachment; filename="{file_name}"'}
        return Response(content, media_type=mime_type, headers=headers)

    return router
