"""The LibreTranslate-compatible API against a live server: the PyPI client unchanged,
and raw form and JSON bodies as other LibreTranslate clients send them."""

from __future__ import annotations

import pytest
import requests
from libretranslatepy import LibreTranslateAPI


def test_libretranslatepy_translates_detects_and_lists(
    base_url: str, held_out: list[dict[str, str]]
) -> None:
    client = LibreTranslateAPI(base_url)
    row = held_out[0]
    assert client.translate(row["eng_Latn"], "en", "qaa_Latn") == row["qaa_Latn"]
    assert client.translate(row["qab_Latn"], "qab", "en") == row["eng_Latn"]
    detected = client.detect(row["eng_Latn"])
    assert detected[0]["language"] == "en" and 50 < detected[0]["confidence"] <= 100
    languages = {lang["code"]: lang for lang in client.languages()}
    assert set(languages) == {"en", "qaa_Latn", "qab_Latn"}
    assert languages["en"]["name"] == "English"
    assert sorted(languages["en"]["targets"]) == ["qaa_Latn", "qab_Latn"]


@pytest.mark.parametrize("encoding", ["json", "form"])
def test_json_and_form_bodies_answer_alike(
    base_url: str, http: requests.Session, held_out: list[dict[str, str]], encoding: str
) -> None:
    fields = {"q": held_out[1]["eng_Latn"], "source": "en", "target": "qab"}
    sent = {"json": fields} if encoding == "json" else {"data": fields}
    response = http.post(f"{base_url}/translate", **sent, timeout=60)
    assert response.status_code == 200, response.text
    assert response.json() == {"translatedText": held_out[1]["qab_Latn"]}
    assert response.headers["x-request-id"]


def test_q_as_array_with_detection_and_alternatives(
    base_url: str, http: requests.Session, held_out: list[dict[str, str]]
) -> None:
    q = [row["eng_Latn"] for row in held_out[:3]]
    body = {"q": q, "source": "auto", "target": "qaa_Latn", "alternatives": 2}
    answer = http.post(f"{base_url}/translate", json=body, timeout=60).json()
    assert answer["translatedText"] == [row["qaa_Latn"] for row in held_out[:3]]
    assert [d["language"] for d in answer["detectedLanguage"]] == ["en"] * 3
    assert all(0 < d["confidence"] <= 100 for d in answer["detectedLanguage"])
    assert len(answer["alternatives"]) == 3
    for best, alternatives in zip(answer["translatedText"], answer["alternatives"], strict=True):
        assert len(alternatives) <= 2 and best not in alternatives


def test_single_q_has_no_detection_when_source_is_named(
    base_url: str, http: requests.Session, held_out: list[dict[str, str]]
) -> None:
    body = {"q": held_out[2]["qaa_Latn"], "source": "qaa", "target": "en", "format": "text"}
    assert http.post(f"{base_url}/translate", json=body, timeout=60).json() == {
        "translatedText": held_out[2]["eng_Latn"]
    }


def test_html_keeps_its_tags(
    base_url: str, http: requests.Session, held_out: list[dict[str, str]]
) -> None:
    sentence = held_out[3]["eng_Latn"]
    body = {"q": f"<p>{sentence}</p>", "source": "en", "target": "qaa_Latn", "format": "html"}
    answer = http.post(f"{base_url}/translate", json=body, timeout=60).json()
    assert answer["translatedText"].startswith("<p>") and answer["translatedText"].endswith("</p>")


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"source": "en", "target": "qaa"}, 400, "Invalid request: missing q parameter"),
        ({"q": "Hi.", "target": "qaa"}, 400, "Invalid request: missing source parameter"),
        ({"q": "Hi.", "source": "en"}, 400, "Invalid request: missing target parameter"),
        ({"q": "Hi.", "source": "en", "target": "xx"}, 400, "unsupported target language 'xx'"),
        ({"q": "Hi.", "source": "en", "target": "qaa", "format": "pdf"}, 400, "pdf format"),
        ({"q": "Hi.", "source": "en", "target": "qaa", "alternatives": "x"}, 400, "not a number"),
    ],
    ids=["no-q", "no-source", "no-target", "unknown-target", "bad-format", "bad-alternatives"],
)
def test_errors_have_libretranslates_shape(
    base_url: str, http: requests.Session, body: dict, status: int, message: str
) -> None:
    response = http.post(f"{base_url}/translate", json=body, timeout=60)
    assert response.status_code == status
    assert set(response.json()) == {"error"}
    assert message in response.json()["error"]


def test_frontend_settings(base_url: str, http: requests.Session) -> None:
    settings = http.get(f"{base_url}/frontend/settings", timeout=10).json()
    assert settings["charLimit"] > 0 and settings["keyRequired"] is False
    assert settings["language"]["source"] == {"code": "auto", "name": "Auto Detect"}
    assert settings["language"]["target"]["code"] in ("qaa_Latn", "qab_Latn")
    assert settings["filesTranslation"] is True
    assert {".txt", ".docx", ".srt"} <= set(settings["supportedFilesFormat"])


def test_translate_file_then_download_it(
    base_url: str, http: requests.Session, held_out: list[dict[str, str]]
) -> None:
    rows = held_out[:2]
    text = "".join(f"{row['eng_Latn']}\n\n" for row in rows)
    answer = http.post(
        f"{base_url}/translate_file",
        files={"file": ("notes.txt", text.encode(), "text/plain")},
        data={"source": "en", "target": "qaa_Latn"},
        timeout=120,
    )
    assert answer.status_code == 200, answer.text
    url = answer.json()["translatedFileUrl"]
    assert url.startswith(f"{base_url}/download_file/") and url.endswith("notes.txt")
    download = http.get(url, timeout=10)
    assert download.status_code == 200
    assert download.text == "".join(f"{row['qaa_Latn']}\n\n" for row in rows)
    assert 'filename="notes.txt"' in download.headers["content-disposition"]
    missing = http.post(f"{base_url}/translate_file", data={"source": "en"}, timeout=10)
    assert missing.status_code == 400 and "missing file" in missing.json()["error"]
    gone = http.get(f"{base_url}/download_file/nothing.txt", timeout=10)
    assert gone.status_code == 400 and set(gone.json()) == {"error"}
