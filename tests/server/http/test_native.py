"""The native JSON API (/v1), health, OpenAPI and the web page's assets on a live server."""

from __future__ import annotations

import re

import requests
from dragoman.server.app import App


def test_translate_with_the_protos_json_mapping(
    base_url: str, http: requests.Session, held_out: list[dict[str, str]]
) -> None:
    row = held_out[0]
    body = {
        "contents": [row["eng_Latn"]],
        "source_language_code": "en",  # proto field names parse too
        "targetLanguageCode": "qaa",
        "options": {"numAlternatives": 2},
    }
    answer = http.post(f"{base_url}/v1/translate", json=body, timeout=60).json()
    (translation,) = answer["translations"]
    assert translation["translatedText"] == row["qaa_Latn"]
    assert translation["detectedLanguageCode"] == "eng_Latn"
    assert translation["model"] == "demo"
    assert len(translation["alternatives"]) == 2


def test_detect_languages_and_models(
    base_url: str, http: requests.Session, held_out: list[dict[str, str]]
) -> None:
    detect = {"contents": [held_out[0]["eng_Latn"]], "maxCandidates": 1}
    answer = http.post(f"{base_url}/v1/detect", json=detect, timeout=60).json()
    assert answer["detections"][0]["languages"][0]["languageCode"] == "eng_Latn"
    languages = http.get(f"{base_url}/v1/languages", timeout=10).json()["languages"]
    assert [lang["languageCode"] for lang in languages] == ["eng_Latn", "qaa_Latn", "qab_Latn"]
    models = http.get(f"{base_url}/v1/models", timeout=10).json()["models"]
    assert [(m["name"], m["default"]) for m in models] == [("demo", True)]


def test_errors_carry_canonical_code_names(base_url: str, http: requests.Session) -> None:
    cases = [
        (http.post(f"{base_url}/v1/translate", json={"contents": ["Hi."]}), 400,
         "INVALID_ARGUMENT", "target_language_code is required"),
        (http.get(f"{base_url}/v1/languages", params={"model": "nope"}), 404,
         "NOT_FOUND", "unknown model 'nope'"),
        (http.post(f"{base_url}/v1/translate", data=b'{"contents": 5}'), 400,
         "INVALID_ARGUMENT", "TranslateTextRequest"),
        (http.post(f"{base_url}/v1/detect", json={"contents": ["x"], "maxCandidates": 50}), 400,
         "INVALID_ARGUMENT", "max_candidates"),
    ]  # fmt: skip
    for response, status, code, message in cases:
        error = response.json()["error"]
        assert (response.status_code, error["status"], error["code"]) == (status, code, status)
        assert message in error["message"]


def test_health_follows_the_grpc_state(
    http_app: App, base_url: str, http: requests.Session
) -> None:
    for path in ("/healthz", "/readyz"):
        response = http.get(f"{base_url}{path}", timeout=10)
        assert (response.status_code, response.json()) == (200, {"status": "SERVING"})
    http_app.health.set_not_serving()
    try:
        response = http.get(f"{base_url}/readyz", timeout=10)
        assert (response.status_code, response.json()) == (503, {"status": "NOT_SERVING"})
    finally:
        http_app.health.set_serving()


def test_openapi_docs_and_page_assets(base_url: str, http: requests.Session) -> None:
    schema = http.get(f"{base_url}/openapi.json", timeout=10).json()
    for path in ("/translate", "/languages", "/detect", "/v2/translate", "/v2/glossaries",
                 "/v1/translate", "/v1/models", "/healthz"):  # fmt: skip
        assert path in schema["paths"], path
    docs = http.get(f"{base_url}/docs", timeout=10).text
    assert "swagger" in docs.lower()
    # Offline: Swagger UI's script and stylesheet come from this server, not a CDN.
    scripts = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', docs)
    assert scripts and all(url.startswith("/") for url in scripts), scripts
    for url in scripts:
        assert http.get(f"{base_url}{url}", timeout=10).status_code == 200
    page = http.get(f"{base_url}/", timeout=10)
    assert page.status_code == 200 and '<select id="target">' in page.text
    for asset in ("/static/app.js", "/static/app.css"):
        assert http.get(f"{base_url}{asset}", timeout=10).status_code == 200
    # No CDN: every script and stylesheet the page names is served by dragoman itself.
    assert "https://" not in page.text and "http://" not in page.text


def test_metrics_count_http_calls_under_the_rpc_names(
    http_app: App, base_url: str, http: requests.Session
) -> None:
    assert http_app.metrics is not None
    counter = http_app.metrics.get("dragoman_requests")

    def count(code: str) -> float:
        return sum(
            sample.value
            for metric in counter.collect()
            for sample in metric.samples
            if sample.name.endswith("_total")
            and sample.labels["rpc"] == "TranslateText"
            and sample.labels["code"] == code
        )

    ok, bad = count("OK"), count("INVALID_ARGUMENT")
    http.post(f"{base_url}/translate", json={"q": "Hi.", "source": "en", "target": "qaa"})
    http.post(f"{base_url}/translate", json={"q": "Hi.", "source": "en", "target": "zz"})
    assert (count("OK"), count("INVALID_ARGUMENT")) == (ok + 1, bad + 1)


def test_browsers_on_other_origins_may_call_the_apis(base_url: str, http: requests.Session) -> None:
    origin = {"Origin": "https://addon.example"}
    simple = http.get(f"{base_url}/languages", headers=origin, timeout=10)
    assert simple.headers["access-control-allow-origin"] == "*"
    preflight = http.options(
        f"{base_url}/translate",
        headers={**origin, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"},
        timeout=10,
    )  # fmt: skip
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]
