"""Parallel data files (TSV with a header of language codes, or JSON lines), validated.

TSV: the first line names the language code of each column (`eng_Latn<TAB>qaa_Latn`);
every other line holds one sentence per column. JSONL: one object per line mapping
language codes to sentences (`{"eng_Latn": "...", "qaa_Latn": "..."}`). Files with more than
two languages are multi-parallel: training uses every direction between them unless told
otherwise. Problems are reported with the file and line before any training starts.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Collection, Sequence
from pathlib import Path

Row = dict[str, str]
Direction = tuple[str, str]


class DataError(ValueError):
    """A data file that cannot be used; the message names the file and line."""


def _lines(path: Path) -> list[str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror}") from None
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = []
    for number, line in enumerate(lines, 1):
        try:
            out.append(line.decode("utf-8").rstrip("\r"))
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{path}:{number}: not UTF-8 text (byte {line[exc.start]:#04x} at column "
                f"{exc.start + 1}); convert the file to UTF-8"
            ) from None
    if not out:
        raise DataError(f"{path}: the file is empty")
    return out


def _check_codes(path: Path, number: int, codes: Sequence[str], known: Collection[str]) -> None:
    if len(codes) < 2:
        raise DataError(f"{path}:{number}: needs at least two languages, found {list(codes)}")
    if len(set(codes)) != len(codes):
        raise DataError(f"{path}:{number}: a language appears twice: {list(codes)}")
    unknown = [c for c in codes if known and c not in known]
    if unknown:
        raise DataError(
            f"{path}:{number}: unknown language code(s) {', '.join(map(repr, unknown))}; "
            f"the model knows: {', '.join(sorted(known)[:30])}"
            + (" ..." if len(known) > 30 else "")
        )


def _tsv(path: Path, lines: list[str], known: Collection[str]) -> list[Row]:
    codes = [c.strip() for c in lines[0].split("\t")]
    _check_codes(path, 1, codes, known)
    rows = []
    for number, line in enumerate(lines[1:], 2):
        if not line.strip():
            raise DataError(f"{path}:{number}: empty line; remove it")
        cells = line.split("\t")
        if len(cells) != len(codes):
            raise DataError(
                f"{path}:{number}: {len(cells)} column(s), the header has {len(codes)} "
                f"({', '.join(codes)}); separate columns with one tab"
            )
        for code, cell in zip(codes, cells, strict=True):
            if not cell.strip():
                raise DataError(f"{path}:{number}: empty {code} sentence")
        rows.append({c: cell.strip() for c, cell in zip(codes, cells, strict=True)})
    return rows


def _jsonl(path: Path, lines: list[str], known: Collection[str]) -> list[Row]:
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            raise DataError(f"{path}:{number}: empty line; remove it")
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{number}: invalid JSON: {exc.msg}") from None
        if not isinstance(obj, dict) or not all(isinstance(v, str) for v in obj.values()):
            raise DataError(f'{path}:{number}: expected an object like {{"eng_Latn": "text"}}')
        _check_codes(path, number, list(obj), known)
        for code, text in obj.items():
            if not text.strip():
                raise DataError(f"{path}:{number}: empty {code} sentence")
        rows.append({c: t.strip() for c, t in obj.items()})
    return rows


_READERS = {".tsv": _tsv, ".txt": _tsv, ".jsonl": _jsonl, ".json": _jsonl}


def read_rows(path: Path | str, known_languages: Collection[str] = ()) -> list[Row]:
    """Reads and validates a parallel file.

    Args:
        path: A .tsv (header of language codes) or .jsonl file.
        known_languages: The model's language codes; others are an error (empty: any).

    Raises:
        DataError: Not UTF-8, ragged or empty lines, unknown codes; names the line.
    """
    path = Path(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise DataError(f"{path}: unknown format; use .tsv or .jsonl")
    rows = reader(path, _lines(path), known_languages)
    if not rows:
        raise DataError(f"{path}: no sentence pairs")
    return rows


def directions_of(rows: Sequence[Row], wanted: Sequence[Direction] = ()) -> list[Direction]:
    """The directions to use: `wanted`, or every direction the rows provide."""
    present = sorted({d for row in rows for d in itertools.permutations(row, 2)})
    if not wanted:
        return present
    missing = [d for d in wanted if d not in present]
    if missing:
        raise DataError(
            f"no data for direction(s) {', '.join('-'.join(d) for d in missing)}; the data has: "
            + ", ".join("-".join(d) for d in present)
        )
    return list(wanted)


def parse_directions(text: str) -> list[Direction]:
    """Parses `eng_Latn-qaa_Latn,qaa_Latn-eng_Latn` (empty: none)."""
    out = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        source, sep, target = item.partition("-")
        if not sep or not source or not target:
            raise DataError(f"bad direction {item!r}; write SOURCE-TARGET, e.g. eng_Latn-fra_Latn")
        out.append((source, target))
    return out
