"""Hostile HTTP input: each gets the API's own error shape and status, never a 500, and
the server keeps serving (ready, and translating correctly) afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from dragoman.server.app import App

LIBRE = {"q": "The cat.", "source": "en", "target": "qaa"}


class Chunks:
    """A body sent chunked (no Content-Length): `count` chunks of 64 KiB, each time anew."""

    def __init__(self, count: int) -> None:
        self.count = count

    def __iter__(self) -> Iterator[bytes]:
        return (b"a" * 65536 for _ in range(self.count))


#: name -> (method, path, request kwargs, status, the error's shape: "libre", "deepl", "native")
CASES: dict[str, tuple[str, str, dict[str, Any], int, str]] = {
    "bad-json": ("POST", "/translate", {"data": b'{"q": "x",', "headers": {"Content-Type":
                 "application/json"}}, 400, "libre"),
    "json-not-object": ("POST", "/translate", {"json": ["q", "x"]}, 400, "libre"),
    "json-invalid-utf8": ("POST", "/translate", {"data": b'{"q": "\xff"}', "headers":
                          {"Content-Type": "application/json"}}, 400, "libre"),
    "wrong-content-type": ("POST", "/translate", {"data": b"q=x", "headers": {"Content-Type":
                           "text/plain"}}, 400, "libre"),
    "xml-body": ("POST", "/v2/translate", {"data": b"<text>x</text>", "headers":
                 {"Content-Type": "application/xml"}}, 400, "deepl"),
    "q-number": ("POST", "/translate", {"json": {**LIBRE, "q": 5}}, 400, "libre"),
    "q-nested": ("POST", "/translate", {"json": {**LIBRE, "q": [["x"]]}}, 400, "libre"),
    "q-10000-items": ("POST", "/translate", {"json": {**LIBRE, "q": ["x"] * 10_000}}, 400,
                      "libre"),
    "q-empty-item": ("POST", "/translate", {"json": {**LIBRE, "q": ["ok", ""]}}, 400, "libre"),
    "nul-byte": ("POST", "/translate", {"json": {**LIBRE, "q": "a\x00b"}}, 400, "libre"),
    "nul-in-code": ("POST", "/translate", {"json": {**LIBRE, "target": "q\x00aa"}}, 400,
                    "libre"),
    "unknown-source": ("POST", "/translate", {"json": {**LIBRE, "source": "xx-Zzzz"}}, 400,
                       "libre"),
    "huge-code": ("POST", "/translate", {"json": {**LIBRE, "target": "x" * 100_000}}, 400,
                  "libre"),
    "alternatives-negative": ("POST", "/translate", {"json": {**LIBRE, "alternatives": -3}}, 200,
                              "libre"),
    "alternatives-huge": ("POST", "/translate", {"json": {**LIBRE, "alternatives": 10**9}}, 400,
                          "libre"),
    "huge-body": ("POST", "/translate", {"data": b"q=" + b"a" * (9 * 1024 * 1024), "headers":
                  {"Content-Type": "application/x-www-form-urlencoded"}}, 413, "libre"),
    "huge-body-chunked": ("POST", "/translate", {"data": Chunks(160),
                          "headers": {"Content-Type": "application/json"}}, 413, "libre"),
    "huge-body-deepl": ("POST", "/v2/translate", {"json": {"text": ["a" * (9 * 1024 * 1024)],
                        "target_lang": "QAA"}}, 413, "deepl"),
    "too-long-text": ("POST", "/v2/translate", {"json": {"text": ["a " * 60_000],
                      "target_lang": "QAA"}}, 400, "deepl"),
    "deepl-bad-tag-handling": ("POST", "/v2/translate", {"data": {"text": "x", "target_lang":
                               "QAA", "tag_handling": "pdf"}}, 400, "deepl"),
    "deepl-file-field": ("POST", "/v2/translate", {"files": {"text": ("a.txt", b"x")},
                         "data": {"target_lang": "QAA"}}, 400, "deepl"),
    "deepl-unknown-glossary": ("POST", "/v2/translate", {"data": {"text": "x", "source_lang":
                               "EN", "target_lang": "QAA", "glossary_id": "../../etc"}}, 400,
                               "deepl"),
    "native-wrong-type": ("POST", "/v1/translate", {"json": {"contents": "x"}}, 400, "native"),
    "native-unknown-field": ("POST", "/v1/translate", {"json": {"contentz": ["x"]}}, 400,
                             "native"),
    "native-huge-alternatives": ("POST", "/v1/translate", {"json": {"contents": ["x"],
                                 "targetLanguageCode": "qaa", "options": {"numAlternatives":
                                 1000}}}, 400, "native"),
    "unknown-path": ("GET", "/v2/nothing-here", {}, 404, "deepl"),
    "wrong-method": ("GET", "/translate", {}, 405, "libre"),
}  # fmt: skip

SHAPES = {
    "libre": lambda body: set(body) == {"error"} and isinstance(body["error"], str),
    "deepl": lambda body: set(body) == {"message"} and isinstance(body["message"], str),
    "native": lambda body: set(body) == {"error"} and set(body["error"]) == {
        "code", "message", "status"},
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES), ids=list(CASES))
def test_hostile_input_gets_the_apis_error(
    base_url: str, http: requests.Session, name: str
) -> None:
    method, path, kwargs, status, shape = CASES[name]
    response = http.request(method, f"{base_url}{path}", timeout=120, **kwargs)
    assert response.status_code == status, response.text[:500]
    body = response.json()
    if status >= 400:
        assert SHAPES[shape](body), body
    assert response.headers["x-request-id"]


def test_server_keeps_serving_after_the_hostile_inputs(
    http_app: App, base_url: str, http: requests.Session, held_out: list[dict[str, str]]
) -> None:
    for name in CASES:
        method, path, kwargs, _, _ = CASES[name]
        http.request(method, f"{base_url}{path}", timeout=120, **kwargs)
    assert http.get(f"{base_url}/readyz", timeout=10).status_code == 200
    assert http_app.health.serving
    breaker = http_app.engine.breaker
    assert breaker is None or breaker.state.name == "CLOSED"
    row = held_out[4]
    body = {"q": row["eng_Latn"], "source": "en", "target": "qaa_Latn"}
    answer = http.post(f"{base_url}/translate", data=json.dumps(body).encode(),
                       headers={"Content-Type": "application/json"}, timeout=60)  # fmt: skip
    assert answer.json() == {"translatedText": row["qaa_Latn"]}
