"""Document translation: files in, the same files out, formatting kept.

`DocumentTranslator(engine).translate(DocumentRequest(...), ctx)` finds the format
(`find_format`), checks the file (`safety`), extracts its units, translates them
through the engine and writes the document back. Formats register themselves in
`dragoman.engine.documents.formats`.
"""

from dragoman.engine.documents import formats as formats
from dragoman.engine.documents.base import (
    DocumentFormat,
    DocumentLimits,
    find_format,
    register_format,
    registered_formats,
)
from dragoman.engine.documents.errors import (
    CorruptDocument,
    DocumentError,
    DocumentTooLarge,
    UnsafeDocument,
    UnsupportedFormat,
)
from dragoman.engine.documents.translate import (
    DocumentProgress,
    DocumentRequest,
    DocumentResult,
    DocumentTranslator,
    Progress,
    load_document,
)

__all__ = [
    "CorruptDocument",
    "DocumentError",
    "DocumentFormat",
    "DocumentLimits",
    "DocumentProgress",
    "DocumentRequest",
    "DocumentResult",
    "DocumentTooLarge",
    "DocumentTranslator",
    "Progress",
    "UnsafeDocument",
    "UnsupportedFormat",
    "find_format",
    "load_document",
    "register_format",
    "registered_formats",
]
