"""The formats; importing this package registers every one of them."""

from dragoman.engine.documents.formats import (
    docx,
    html,
    markdown,
    odf,
    po,
    pptx,
    subtitles,
    text,
    xliff,
    xlsx,
)

__all__ = ["docx", "html", "markdown", "odf", "po", "pptx", "subtitles", "text", "xliff", "xlsx"]
