"""`dragoman translate-file` against a real server: one file, and a folder tree."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import Sentence, all_cases
from dragoman.clients.translate_file import DOCUMENT_EXTENSIONS
from dragoman.engine.documents import registered_formats
from dragoman.server.app import App

from dragoman.cli import main


def test_client_extensions_are_the_servers() -> None:
    served = {ext for fmt in registered_formats() for ext in fmt.extensions}
    assert served == DOCUMENT_EXTENSIONS


def test_one_file_gets_a_default_name_and_a_progress_bar(
    app: App, tmp_path: Path, sentences: list[Sentence], capsys: pytest.CaptureFixture[str]
) -> None:
    case = all_cases()["docx"]
    source = tmp_path / "report.docx"
    source.write_bytes(case.build(sentences))
    address = f"127.0.0.1:{app.port}"
    assert main(["translate-file", str(source), "--to", "qaa_Latn", "--address", address]) == 0
    output = tmp_path / "report.qaa_Latn.docx"
    after, before = case.read(output.read_bytes()), case.read(source.read_bytes())
    assert after.structure == before.structure and after.pieces != before.pieces
    out, err = capsys.readouterr()
    assert out.startswith(f"{output}\t{len(before.pieces)} segments") and "eng_Latn" in out
    assert "report.docx" in err and "seg" in err  # the tqdm bar


def test_a_folder_is_translated_into_the_same_tree(
    app: App, tmp_path: Path, sentences: list[Sentence], capsys: pytest.CaptureFixture[str]
) -> None:
    cases = all_cases()
    docs = tmp_path / "docs"
    (docs / "guide" / "deep").mkdir(parents=True)
    files = {"a.md": "md", "guide/b.pptx": "pptx", "guide/deep/c.srt": "srt"}
    for name, kind in files.items():
        (docs / name).write_bytes(cases[kind].build(sentences))
    (docs / "guide" / "logo.png").write_bytes(b"\x89PNG not a document")
    (docs / "broken.xlsx").write_bytes(b"not a zip")
    address, output = f"127.0.0.1:{app.port}", str(tmp_path / "out")
    code = main(["translate-file", str(docs), "--to", "qaa_Latn", "--no-progress",
                 "--address", address, "--output", output])  # fmt: skip
    assert code == 1  # broken.xlsx failed, the others did not
    out, err = capsys.readouterr()
    assert "broken.xlsx" in err and "not a valid .xlsx" in err
    translated = sorted(
        str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file()
    )
    assert translated == sorted(files)
    for name, kind in files.items():
        before = cases[kind].read((docs / name).read_bytes())
        after = cases[kind].read((tmp_path / "out" / name).read_bytes())
        assert after.structure == before.structure and after.pieces != before.pieces
    assert out.count(" segment") == len(files)


def test_missing_target_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Hello.")
    assert main(["translate-file", str(tmp_path / "a.txt")]) == 2


def test_async_client_translates_a_document_with_progress(
    app: App, sentences: list[Sentence]
) -> None:
    import asyncio

    from dragoman.clients import AsyncTranslationClient

    case = all_cases()["odt"]
    content = case.build(sentences)
    seen: list[tuple[int, int]] = []

    async def go() -> bytes:
        async with AsyncTranslationClient(f"127.0.0.1:{app.port}") as client:
            result = await client.translate_document(
                content, "qaa", file_name="a.odt", source="en",
                progress=lambda done, total: seen.append((done, total)),
            )  # fmt: skip
            assert result.detected_language == "eng_Latn" and result.file_name == "a.odt"
            return result.content

    after, before = case.read(asyncio.run(go())), case.read(content)
    assert after.structure == before.structure and after.pieces != before.pieces
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1] == len(before.pieces)
