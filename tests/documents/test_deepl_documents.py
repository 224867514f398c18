"""DeepL's /v2/document flow (upload -> status -> download) on a live server, through the
official `deepl` library (unchanged, `server_url` pointing at dragoman) and raw requests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from corpus import Sentence, all_cases
from dragoman.server.app import App, build_app
from dragoman.server.settings import Settings

deepl = pytest.importorskip("deepl")


@pytest.fixture(scope="module")
def base_url(demo_model_dir: Path) -> Iterator[str]:
    settings = Settings(
        host="127.0.0.1", port=0, workers=16, log_format="text", grace_period_s=2.0,
        http={"port": 0},
        models=[{"name": "demo", "path": str(demo_model_dir), "device": "cpu",
                 "intra_threads": 1}],
    )  # fmt: skip
    app: App = build_app(settings)
    app.start()
    app.load()
    assert app.http is not None
    yield app.http.url
    app.stop(grace=1.0)


def _poll(base_url: str, handle: dict[str, str], timeout: float = 60) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while True:
        url = f"{base_url}/v2/document/{handle['document_id']}"
        body = requests.post(url, data={"document_key": handle["document_key"]}, timeout=10)
        status = body.json()
        if status["status"] in ("done", "error") or time.monotonic() > end:
            return status
        time.sleep(0.05)


def test_the_deepl_library_translates_a_document(
    base_url: str, sentences: list[Sentence], tmp_path: Path
) -> None:
    case = all_cases()["pptx"]
    content = case.build(sentences)
    (tmp_path / "slides.pptx").write_bytes(content)
    translator = deepl.Translator("any-key", server_url=base_url, send_platform_info=False)
    status = translator.translate_document_from_filepath(
        tmp_path / "slides.pptx", tmp_path / "slides.qaa.pptx", source_lang="EN",
        target_lang="QAA_LATN",
    )  # fmt: skip
    translator.close()
    assert status.done and status.billed_characters > 0
    before, after = case.read(content), case.read((tmp_path / "slides.qaa.pptx").read_bytes())
    assert after.structure == before.structure and after.fixed == before.fixed
    assert [p for p in after.pieces if p in before.pieces] == []


def test_upload_status_and_download_by_hand(base_url: str, sentences: list[Sentence]) -> None:
    case = all_cases()["srt"]
    content = case.build(sentences)
    upload = requests.post(
        f"{base_url}/v2/document",
        data={"target_lang": "QAA_LATN"},
        files={"file": ("film.srt", content, "application/x-subrip")},
        timeout=30,
    )
    assert upload.status_code == 200, upload.text
    handle = upload.json()
    assert set(handle) == {"document_id", "document_key"}
    status = _poll(base_url, handle)
    assert status["status"] == "done" and status["billed_characters"] > 0
    result = requests.post(
        f"{base_url}/v2/document/{handle['document_id']}/result",
        data={"document_key": handle["document_key"]},
        timeout=30,
    )
    assert (
        result.status_code == 200 and 'filename="film.srt"' in result.headers["content-disposition"]
    )
    assert case.read(result.content).fixed == case.read(content).fixed  # timings
    wrong = requests.post(
        f"{base_url}/v2/document/{handle['document_id']}",
        data={"document_key": "0" * 64},
        timeout=10,
    )
    assert wrong.status_code == 404 and "Document not found" in wrong.json()["message"]


@pytest.mark.parametrize(
    ("file_name", "content", "fields", "says"),
    [
        ("macros.docm", b"PK", {"target_lang": "QAA_LATN"}, "macro-enabled"),
        ("virus.exe", b"MZ", {"target_lang": "QAA_LATN"}, "cannot tell the format"),
        ("a.txt", b"Hello.", {}, "target_lang is required"),
        ("a.txt", b"Hello.", {"target_lang": "QAA_LATN", "output_format": "pdf"},
         "output_format"),
    ],
    ids=["docm", "unknown-format", "no-target", "other-output-format"],
)  # fmt: skip
def test_bad_uploads_are_refused_at_once(
    base_url: str, file_name: str, content: bytes, fields: dict[str, str], says: str
) -> None:
    response = requests.post(
        f"{base_url}/v2/document", data=fields, files={"file": (file_name, content)}, timeout=10
    )
    assert response.status_code == 400 and says in response.json()["message"]


def test_a_damaged_file_ends_in_error_and_its_result_says_why(base_url: str) -> None:
    upload = requests.post(
        f"{base_url}/v2/document",
        data={"target_lang": "QAA_LATN"},
        files={"file": ("report.docx", b"PK\x03\x04 not really a zip")},
        timeout=10,
    )
    handle = upload.json()
    status = _poll(base_url, handle)
    assert status["status"] == "error" and "not a valid .docx" in status["error_message"]
    result = requests.post(
        f"{base_url}/v2/document/{handle['document_id']}/result",
        data={"document_key": handle["document_key"]},
        timeout=10,
    )
    assert result.status_code == 400 and "not a valid .docx" in result.json()["message"]
