"""DeepL's document translation: upload, then poll the status, then download the result.

- `POST /v2/document` (multipart: `file`, `target_lang`, optional `source_lang`,
  `filename`, `output_format`, `formality`, `glossary_id`) answers at once with
  `{"document_id", "document_key"}`; the document is translated in the background
  (`server/document_jobs.py`) by the same document layer as gRPC's TranslateDocument.
- `POST /v2/document/{document_id}` with `document_key` answers `{"document_id",
  "status": queued|translating|done|error, "seconds_remaining", "billed_characters",
  "error_message"}`.
- `POST /v2/document/{document_id}/result` with `document_key` sends the translated
  file (503 while it is not done, as DeepL does).

The format, the file name and the languages are checked at upload (400 at once); a
file that turns out damaged or hostile ends the job in `error` with the reason.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import grpc
from dragoman.engine.documents import DocumentRequest, DocumentTranslator, find_format
from dragoman.engine.documents import safety as document_safety
from dragoman.engine.errors import InvalidRequest
from dragoman.engine.features import TextFeatures
from dragoman.engine.validation import check_languages
from dragoman.server.document_jobs import DocumentJob, DocumentJobs, UnknownJob
from dragoman.server.http.codes import respell
from dragoman.server.http.deepl import FORMALITIES, deepl_call
from dragoman.server.http.errors import CallError
from dragoman.server.http.forms import Fields, read_fields
from dragoman.server.http.frontend import Call, Frontend
from fastapi import APIRouter
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

TRANSLATE_DOCUMENT = "/dragoman.translation.v1.TranslationService/TranslateDocument"
NOT_FOUND = "Document not found: the id or the key is wrong, or it expired (upload it again)"


def _bad(message: str) -> CallError:
    return CallError(grpc.StatusCode.INVALID_ARGUMENT, message)


def _request(fields: dict[str, str], upload: UploadFile, content: bytes) -> DocumentRequest:
    """The engine's request for an upload, checked as far as it can be without parsing."""
    target = fields.get("target_lang", "").strip()
    if not target:
        raise InvalidRequest("Value for 'target_lang' not supported: target_lang is required")
    source = fields.get("source_lang", "").strip()
    check_languages(target, source, "")
    name = fields.get("filename", "").strip() or upload.filename or ""
    output = fields.get("output_format", "").strip().lower().lstrip(".")
    if output and output != PurePosixPath(name).suffix.lower().lstrip("."):
        raise InvalidRequest(
            f"Value for 'output_format' not supported: documents come back in their own "
            f"format ({PurePosixPath(name).suffix or 'unknown'})"
        )
    formality = fields.get("formality", "").strip().lower()
    if formality and formality not in FORMALITIES:
        raise InvalidRequest(f"Value for 'formality' not supported; use one of {FORMALITIES}")
    glossary = fields.get("glossary_id", "").strip()
    if glossary and not source:
        raise InvalidRequest("Use of a glossary requires the source_lang parameter to be specified")
    mime = (upload.content_type or "").split(";")[0].strip().lower()
    mime = "" if mime in ("", "application/octet-stream") else mime
    document_safety.check_name(mime, name)
    find_format(mime, name)  # an unsupported format is refused now, not in the job
    return DocumentRequest(
        content=content,
        target_language=respell(target),
        mime_type=mime,
        file_name=name,
        source_language=respell(source),
        features=TextFeatures(glossary_name=glossary),
    )


def _status(job: DocumentJob) -> dict[str, Any]:
    body: dict[str, Any] = {"document_id": job.job_id, "status": job.status}
    remaining = job.seconds_remaining()
    if remaining is not None:
        body["seconds_remaining"] = remaining
    if job.result is not None and job.status == "done":
        body["billed_characters"] = job.result.characters
    if job.status == "error":
        body["error_message"] = job.error
    return body


def routes(frontend: Frontend) -> APIRouter:
    """/v2/document and its status and result, with jobs that stop with `frontend`."""
    router = APIRouter(prefix="/v2", tags=["DeepL-compatible"])
    jobs = DocumentJobs(DocumentTranslator(frontend.engine))
    frontend.on_close.append(jobs.close)

    def find(document_id: str, fields: Fields) -> DocumentJob:
        try:
            return jobs.get(document_id, fields.text("document_key").strip())
        except UnknownJob:
            raise CallError(grpc.StatusCode.NOT_FOUND, NOT_FOUND) from None

    @router.post("/document", summary="Upload a document to translate (DeepL)")
    async def upload(request: Request) -> JSONResponse:
        """Multipart `file` and `target_lang`; returns the id and key to poll with."""
        limit = frontend.limits.max_message_bytes
        form = await request.form(max_files=1, max_fields=16, max_part_size=limit)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise _bad("Invalid request: missing file parameter")
        content = await upload.read()
        fields = {key: value for key, value in form.items() if isinstance(value, str)}

        def work(call: Call) -> dict[str, str]:
            job = jobs.submit(_request(fields, upload, content))
            return {"document_id": job.job_id, "document_key": job.key}

        return JSONResponse(await deepl_call(frontend, request, TRANSLATE_DOCUMENT, work))

    @router.post("/document/{document_id}", summary="Status of a document translation (DeepL)")
    async def status(document_id: str, request: Request) -> JSONResponse:
        """`document_key` in the body; queued, translating (with an estimate), done or error."""
        fields = await read_fields(request)

        def work(call: Call) -> dict[str, Any]:
            return _status(find(document_id, fields))

        body = await deepl_call(
            frontend, request, TRANSLATE_DOCUMENT, work, admission="authenticate"
        )
        return JSONResponse(body)

    @router.post("/document/{document_id}/result", summary="Download a translated document")
    async def result(document_id: str, request: Request) -> Response:
        """`document_key` in the body; the file once the status is done."""
        fields = await read_fields(request)

        def work(call: Call) -> DocumentJob:
            return find(document_id, fields)

        job = await deepl_call(
            frontend, request, TRANSLATE_DOCUMENT, work, admission="authenticate"
        )
        if job.status == "error":
            raise _bad(f"Document translation failed: {job.error}")
        if job.result is None or job.status != "done":
            raise CallError(
                grpc.StatusCode.UNAVAILABLE,
                "Document translation is not done yet: poll its status until it is done",
                retry_after_s=max(1, job.seconds_remaining() or 1),
            )
        name = PurePosixPath(job.result.file_name or "document").name.replace('"', "")
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(job.result.content, media_type=job.result.mime_type, headers=headers)

    return router
