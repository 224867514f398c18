"""Checks on untrusted files, made before any format library parses them.

- Zip containers (docx, pptx, xlsx, odf): member count, total uncompressed size and
  compression ratio from the central directory (`ZipFile.infolist`), before anything
  is decompressed; macro projects (`vbaProject.bin`) refused; every XML member
  parsed once by defusedxml, which refuses entity declarations (billion laughs) and
  external entities or DTDs (XXE).
- Encrypted Office files and legacy binary ones are OLE compound files, not zips:
  refused by their signature with a message saying what to send instead.
- Everything happens in memory (`io.BytesIO`); nothing is written to disk.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import PurePosixPath

import defusedxml.ElementTree
from defusedxml import DefusedXmlException
from dragoman.engine.documents.base import MB, DocumentFormat
from dragoman.engine.documents.errors import CorruptDocument, UnsafeDocument

#: The signature of an OLE compound file (encrypted OOXML, .doc, .xls, .ppt).
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MACRO_EXTENSIONS = frozenset(
    [".docm", ".dotm", ".pptm", ".potm", ".ppsm", ".xlsm", ".xltm", ".xlam"]
)
#: Members of a zip that are XML (screened by defusedxml).
XML_SUFFIXES = frozenset((".xml", ".rels", ".vml"))


def check_name(mime_type: str, file_name: str) -> None:
    """Refuses macro-enabled documents by name or mime type.

    Raises:
        UnsafeDocument: A macro-enabled extension or mime type.
    """
    suffix = PurePosixPath(file_name.replace("\\", "/")).suffix.lower()
    if suffix in MACRO_EXTENSIONS or "macroenabled" in mime_type.lower():
        raise UnsafeDocument(
            f"macro-enabled documents ({suffix or mime_type}) are refused: save the file "
            "without macros (.docx, .pptx, .xlsx) and send that"
        )


def check_container(fmt: DocumentFormat, content: bytes) -> None:
    """Checks a zip-based document before its library opens it.

    Raises:
        UnsafeDocument: Encrypted, macro-enabled, a zip bomb, or XML with entities.
        CorruptDocument: Not a zip, or a truncated one.
    """
    if content.startswith(OLE_SIGNATURE):
        raise UnsafeDocument(
            f"the file is an OLE compound file, not a {fmt.name} zip: either it is "
            "password-protected (encrypted) or a legacy binary format (.doc/.xls/.ppt); "
            f"remove the password or save it as .{fmt.name} and send that"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError) as error:
        raise CorruptDocument(
            f"the file is not a valid .{fmt.name} document: {error} (is it truncated, or "
            "another format?)"
        ) from error
    with archive:
        members = archive.infolist()
        _check_sizes(fmt, members)
        for member in members:
            if PurePosixPath(member.filename).name.lower() == "vbaproject.bin":
                raise UnsafeDocument(
                    f"the {fmt.name} document contains macros ({member.filename}): save it "
                    "without macros and send that"
                )
            if PurePosixPath(member.filename).suffix.lower() in XML_SUFFIXES:
                check_xml(_read(archive, member, fmt), f"{fmt.name} part {member.filename}")


def _check_sizes(fmt: DocumentFormat, members: list[zipfile.ZipInfo]) -> None:
    limits = fmt.limits
    if len(members) > limits.max_members:
        raise UnsafeDocument(
            f"the {fmt.name} archive has {len(members):,} members; at most "
            f"{limits.max_members:,} are accepted"
        )
    total = sum(m.file_size for m in members)
    if total > limits.max_unpacked_bytes:
        raise UnsafeDocument(
            f"the {fmt.name} archive unpacks to {total:,} bytes, over the limit of "
            f"{limits.max_unpacked_bytes:,} (a zip bomb?): send a smaller document"
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > MB and ratio > limits.max_ratio:
            raise UnsafeDocument(
                f"member {member.filename!r} of the {fmt.name} archive is compressed "
                f"{ratio:,.0f}:1 (limit {limits.max_ratio:g}:1; a zip bomb?): send a "
                "normal document"
            )


def _read(archive: zipfile.ZipFile, member: zipfile.ZipInfo, fmt: DocumentFormat) -> bytes:
    try:
        return archive.read(member)
    except RuntimeError as error:  # zipfile's "File ... is encrypted, password required"
        raise UnsafeDocument(
            f"member {member.filename!r} of the .{fmt.name} document is encrypted: remove "
            "the password and send it again"
        ) from error
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError,
            NotImplementedError) as error:  # fmt: skip
        raise CorruptDocument(
            f"member {member.filename!r} of the .{fmt.name} document cannot be read: {error} "
            "(is the file damaged or truncated?)"
        ) from error


def check_xml(content: bytes | str, what: str) -> None:
    """Parses XML with defusedxml: no entity declarations, no external references.

    Raises:
        UnsafeDocument: It declares entities or refers to external resources.
        CorruptDocument: It is not well-formed XML.
    """
    try:
        defusedxml.ElementTree.fromstring(content)
    except DefusedXmlException as error:
        raise UnsafeDocument(
            f"{what} declares XML entities or external references ({type(error).__name__}), "
            "which are refused (XXE / billion laughs): remove the DOCTYPE's entities"
        ) from error
    except defusedxml.ElementTree.ParseError as error:
        raise CorruptDocument(f"{what} is not well-formed XML: {error}") from error
