"""Bad parallel data is refused before training, with the file and line in the message."""

from __future__ import annotations

from pathlib import Path

import pytest
from dragoman.finetune.data import DataError, directions_of, parse_directions, read_rows

KNOWN = {"eng_Latn", "qaa_Latn", "qab_Latn"}
GOOD_TSV = "eng_Latn\tqaa_Latn\nThe dog sees a cat.\tHun ka mir ne vida.\n"

BAD_FILES = [
    ("ragged.tsv", b"eng_Latn\tqaa_Latn\nA dog.\tHun.\nA cat.\n", r"ragged\.tsv:3: 1 column"),
    ("extra_tab.tsv", b"eng_Latn\tqaa_Latn\nA\tB\tC\n", r":2: 3 column\(s\), the header has 2"),
    ("empty_line.tsv", b"eng_Latn\tqaa_Latn\nA dog.\tHun.\n\nA cat.\tMir.\n", r":3: empty line"),
    ("empty_cell.tsv", b"eng_Latn\tqaa_Latn\nA dog.\t \n", r":2: empty qaa_Latn sentence"),
    ("unknown.tsv", b"eng_Latn\txxx_Latn\nA dog.\tHun.\n", r":1: unknown language code.*xxx_Latn"),
    ("latin1.tsv", b"eng_Latn\tqaa_Latn\nA dog.\tHun.\nCaf\xe9.\tKafe.\n", r":3: not UTF-8"),
    ("one_lang.tsv", b"eng_Latn\nA dog.\n", r":1: needs at least two languages"),
    ("empty.tsv", b"", r"empty"),
    ("bad.jsonl", b'{"eng_Latn": "A dog.", "qaa_Latn": "Hun."}\n{"eng_Latn": \n', r":2: invalid"),
    ("unknown.jsonl", b'{"eng_Latn": "A dog.", "fra_Latn": "Un chien."}\n', r":1: unknown"),
    ("latin1.jsonl", b'{"eng_Latn": "Caf\xe9", "qaa_Latn": "x"}\n', r"latin1\.jsonl:1: not UTF-8"),
    ("empty_line.jsonl", b'{"eng_Latn": "a", "qaa_Latn": "b"}\n\n', r":2: empty line"),
    ("list.jsonl", b'["eng_Latn", "a"]\n', r":1: expected an object"),
    ("data.csv", b"eng_Latn,qaa_Latn\n", r"unknown format"),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_data_names_the_line(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_rows(path, KNOWN)


def test_good_tsv_and_jsonl(tmp_path: Path) -> None:
    tsv = tmp_path / "ok.tsv"
    tsv.write_text(GOOD_TSV, encoding="utf-8")
    jsonl = tmp_path / "ok.jsonl"
    jsonl.write_text('{"eng_Latn": "A dog.", "qab_Latn": "Kan.", "qaa_Latn": "Hun."}\n', "utf-8")
    assert read_rows(tsv, KNOWN) == [
        {"eng_Latn": "The dog sees a cat.", "qaa_Latn": "Hun ka mir ne vida."}
    ]
    rows = read_rows(jsonl, KNOWN)
    assert len(directions_of(rows)) == 6
    assert directions_of(rows, [("qab_Latn", "eng_Latn")]) == [("qab_Latn", "eng_Latn")]


def test_missing_direction_and_bad_direction_syntax(tmp_path: Path) -> None:
    rows = [{"eng_Latn": "a", "qaa_Latn": "b"}]
    with pytest.raises(DataError, match=r"no data for direction.*eng_Latn-qab_Latn"):
        directions_of(rows, [("eng_Latn", "qab_Latn")])
    with pytest.raises(DataError, match="SOURCE-TARGET"):
        parse_directions("eng_Latn")
