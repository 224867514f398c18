"""Protobuf <-> domain types for TranslateDocument and StreamTranslateDocument.

The document's settings reuse TranslateText's validation: options through
`wire.options_from_proto`, glossary / do-not-translate / placeholder fields
through `wire.features_from_proto` (the mime type is set per unit by the engine's
document layer, so it is not a request field here).
"""

from __future__ import annotations

from dragoman.engine.documents import DocumentProgress, DocumentRequest, DocumentResult
from dragoman.engine.documents.errors import DocumentTooLarge
from dragoman.engine.errors import InvalidRequest
from dragoman.engine.validation import check_languages
from dragoman.server import wire
from dragoman.server.settings import LimitSettings

from dragoman.translation.v1 import translation_service_pb2 as pb

#: Longest file name or mime type accepted (real ones are short).
MAX_NAME_CHARS = 255
#: Room left in a response message for everything but the document's bytes.
RESPONSE_OVERHEAD_BYTES = 4096


def request_from_proto(message: pb.TranslateDocumentRequest) -> DocumentRequest:
    """A validated document request.

    Raises:
        InvalidRequest: No document, a missing target, implausible names or fields.
    """
    if not message.HasField("document"):
        raise InvalidRequest(
            "document is required: send {document: {content: <bytes>, file_name: 'a.docx'}}"
        )
    document = message.document
    for field, value in (("mime_type", document.mime_type), ("file_name", document.file_name)):
        if len(value) > MAX_NAME_CHARS or "\x00" in value:
            raise InvalidRequest(
                f"document.{field} is not plausible ({len(value):,} characters): send a short "
                f"{field.replace('_', ' ')}"
            )
    check_languages(message.target_language_code, message.source_language_code, message.model)
    shared = pb.TranslateTextRequest(
        glossary_config=message.glossary_config,
        do_not_translate=message.do_not_translate,
        disable_placeholder_protection=message.disable_placeholder_protection,
    )
    return DocumentRequest(
        content=document.content,
        target_language=message.target_language_code.strip(),
        mime_type=document.mime_type.strip(),
        file_name=document.file_name.strip(),
        source_language=message.source_language_code.strip(),
        model=message.model.strip(),
        options=wire.options_from_proto(message.options),
        features=wire.features_from_proto(shared),
    )


def response_to_proto(
    result: DocumentResult, limits: LimitSettings
) -> pb.TranslateDocumentResponse:
    """TranslateDocument's response.

    Raises:
        DocumentTooLarge: The translated document does not fit in a response message.
    """
    if len(result.content) > limits.max_message_bytes - RESPONSE_OVERHEAD_BYTES:
        raise DocumentTooLarge(
            f"the translated document has {len(result.content):,} bytes, more than the "
            f"server's message limit of {limits.max_message_bytes:,}: split the document, "
            "or raise limits.max_message_bytes on server and client"
        )
    return pb.TranslateDocumentResponse(
        document=pb.Document(
            content=result.content, mime_type=result.mime_type, file_name=result.file_name
        ),
        detected_language_code=result.source_language,
        model=result.model,
        segment_count=result.units,
        character_count=result.characters,
    )


def step_to_proto(
    step: DocumentProgress | DocumentResult, limits: LimitSettings
) -> pb.StreamTranslateDocumentResponse:
    """One message of StreamTranslateDocument: progress, or the result."""
    if isinstance(step, DocumentResult):
        return pb.StreamTranslateDocumentResponse(result=response_to_proto(step, limits))
    return pb.StreamTranslateDocumentResponse(
        progress=pb.DocumentTranslationProgress(
            translated_segment_count=step.done, total_segment_count=step.total
        )
    )
