"""Hostile files for the document tests, each built here from the format libraries."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

from corpus import Sentence
from corpus_office import _docx, _pptx

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _rezip(content: bytes, change: Callable[[str, bytes], bytes | None], extra: dict[str, bytes]
           ) -> bytes:  # fmt: skip
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        for member in source.infolist():
            data = change(member.filename, source.read(member))
            if data is not None:
                target.writestr(member, data, zipfile.ZIP_DEFLATED)
        for name, data in extra.items():
            target.writestr(name, data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def zip_bomb(s: list[Sentence]) -> bytes:
    """A .docx in the style of 42.zip: zipped zips and members of zeros (1000:1 each)."""
    layer = io.BytesIO()
    with zipfile.ZipFile(layer, "w", zipfile.ZIP_DEFLATED) as inner:
        for index in range(16):
            inner.writestr(f"{index}.bin", bytes(4 * 1024 * 1024))
    members = {f"word/media/lib{i}.zip": layer.getvalue() for i in range(4)}
    members["word/media/zeros.bin"] = bytes(64 * 1024 * 1024)
    return _rezip(_docx(s), lambda name, data: data, members)


def xxe_docx(s: list[Sentence]) -> bytes:
    """A .docx whose document.xml declares an external entity (XXE)."""
    doctype = b'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'

    def change(name: str, data: bytes) -> bytes:
        if name != "word/document.xml":
            return data
        head, _, rest = data.partition(b"?>")
        return head + b"?>" + doctype + rest.replace(s[1].eng.encode(), b"&xxe;", 1)

    return _rezip(_docx(s), change, {})


def billion_laughs_xliff(s: list[Sentence]) -> bytes:
    """An XLIFF file whose DTD nests entities ten deep (the billion laughs)."""
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    ]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE xliff [' + "".join(entities) + "]>\n"
        '<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2"><file '
        'original="a" source-language="en" datatype="plaintext"><body><trans-unit id="1">'
        "<source>&lol9;</source></trans-unit></body></file></xliff>\n"
    ).encode()


def truncated_pptx(s: list[Sentence]) -> bytes:
    """The first half of a .pptx."""
    content = _pptx(s)
    return content[: len(content) // 2]


def macro_docx(s: list[Sentence]) -> bytes:
    """A .docx with a VBA project inside (as a .docm has)."""
    return _rezip(_docx(s), lambda name, data: data, {"word/vbaProject.bin": b"\xcc" * 512})


def encrypted_docx(s: list[Sentence]) -> bytes:
    """What a password-protected .docx is: an OLE compound file."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096)
