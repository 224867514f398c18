"""Typed errors of document translation.

Each is an `InvalidRequest` (INVALID_ARGUMENT at the gRPC edge): a bad file is the
caller's mistake, never the server's, and never counts for the circuit breaker.
"""

from __future__ import annotations

from dragoman.engine.errors import InputTooLong, InvalidRequest


class DocumentError(InvalidRequest):
    """Base class of the errors about a document's content or format."""


class UnsupportedFormat(DocumentError):
    """No registered format matches the mime type or file name."""


class CorruptDocument(DocumentError):
    """The file cannot be read as the format it claims to be (truncated, not a zip, ...)."""


class UnsafeDocument(DocumentError):
    """The file is refused on purpose: a zip bomb, XML entities, macros, encryption."""


class DocumentTooLarge(DocumentError, InputTooLong):
    """The file exceeds its format's limits (bytes, units or characters)."""
