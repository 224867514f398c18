"""gettext catalogues (.po, .pot), through polib.

Every entry without a translation (or with a fuzzy one) gets its msgstr filled; a
plural entry gets `msgid` in form 0 and `msgid_plural` in the others (as many as the
header's `Plural-Forms` says). Placeholders (`%s`, `{name}`, `%(name)s`) come back
byte-identical through the engine's placeholder protection. Filled entries are
flagged `fuzzy`, so a translator reviews machine output before it ships.
"""

from __future__ import annotations

import re
from typing import Any

from dragoman.engine.documents.base import DocumentFormat, LoadedDocument, register_format
from dragoman.engine.documents.errors import CorruptDocument
from dragoman.engine.documents.formats.text import decode_text

_NPLURALS = re.compile(r"nplurals\s*=\s*(\d+)")


def _fill(entry: Any, index: int | None) -> Any:
    def apply(translation: str) -> None:
        if index is None:
            entry.msgstr = translation
        else:
            entry.msgstr_plural[index] = translation
        if "fuzzy" not in entry.flags:
            entry.flags.append("fuzzy")

    return apply


@register_format
class Gettext(DocumentFormat):
    """A gettext PO or POT file."""

    name = "po"
    mime_types = ("text/x-gettext-translation", "text/x-po", "application/x-gettext")
    extensions = (".po", ".pot")

    def load(self, content: bytes) -> LoadedDocument:
        import polib

        text = decode_text(content, self)
        try:
            # The leading newline keeps polib from taking the content for a file path.
            catalogue = polib.pofile("\n" + text.removeprefix("\ufeff"))
        except (OSError, ValueError) as error:
            raise CorruptDocument(f"the po document cannot be parsed: {error}") from error
        found = _NPLURALS.search(catalogue.metadata.get("Plural-Forms", ""))
        plurals = max(int(found.group(1)), 1) if found else 2
        document = LoadedDocument()
        for entry in catalogue:
            if entry.obsolete or not entry.msgid or entry.translated():
                continue
            if entry.msgid_plural:
                for form in range(plurals):
                    entry.msgstr_plural.setdefault(form, "")
                    source = entry.msgid if form == 0 else entry.msgid_plural
                    document.add(source, _fill(entry, form))
            else:
                document.add(entry.msgid, _fill(entry, None))
        document.save = lambda: str(catalogue).encode("utf-8")
        return document
