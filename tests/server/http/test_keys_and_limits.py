"""API keys and rate limits over HTTP: the same key store and budgets as gRPC, each API
answering in its own words (LibreTranslate 400/403/429, DeepL 403/429/456, native 401)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import grpc
import pytest
import requests
from dragoman.server.app import App
from dragoman.server.keystore import KeyStore

from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc

from .conftest import demo_models


@pytest.fixture(scope="module")
def keyed(
    demo_model_dir: Path,
    server_factory: Callable[..., App],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[App, dict[str, str]]:
    """A server that requires keys, with 3 requests per minute per caller, and its keys."""
    key_db = tmp_path_factory.mktemp("keys") / "keys.sqlite3"
    store = KeyStore(key_db)
    keys = {
        "plain": store.create("plain")[1],
        "tiny": store.create("tiny budget", character_limit=20)[1],
        "revoked": store.create("revoked")[1],
    }
    store.revoke(store.verify(keys["revoked"]).key_id)  # type: ignore[union-attr]
    store.close()
    app = server_factory(
        models=demo_models(demo_model_dir),
        auth={"enabled": True, "key_db": str(key_db)},
        rate_limit={"enabled": True, "requests": 3, "window_s": 600, "characters": 100_000},
    )
    return app, keys


def _url(app: App) -> str:
    assert app.http is not None
    return app.http.url


def test_libretranslate_api_key_in_the_body(keyed: tuple[App, dict[str, str]]) -> None:
    app, keys = keyed
    url = f"{_url(app)}/translate"
    body = {"q": "The cat.", "source": "en", "target": "qaa"}
    missing = requests.post(url, json=body, timeout=60)
    assert missing.status_code == 400 and "API key" in missing.json()["error"]
    wrong = requests.post(url, data={**body, "api_key": "dgm_nope_nope"}, timeout=60)
    assert wrong.status_code == 403 and "unknown API key" in wrong.json()["error"]
    revoked = requests.post(url, json={**body, "api_key": keys["revoked"]}, timeout=60)
    assert revoked.status_code == 403 and "revoked" in revoked.json()["error"]
    accepted = requests.post(url, json={**body, "api_key": keys["plain"]}, timeout=60)
    assert accepted.status_code == 200, accepted.text
    # /languages stays open, as LibreTranslate's does.
    assert requests.get(f"{_url(app)}/languages", timeout=10).status_code == 200


def test_rate_limit_is_shared_with_grpc_and_says_when_to_retry(
    keyed: tuple[App, dict[str, str]],
) -> None:
    app, keys = keyed
    key = keys["plain"]  # one request used above (module order) or not: fill the rest
    url = f"{_url(app)}/translate"
    body = {"q": "The dog.", "source": "en", "target": "qab", "api_key": key}
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        stub = pb_grpc.TranslationServiceStub(channel)
        request = pb.TranslateTextRequest(contents=["The dog."], target_language_code="qab")
        metadata = (("authorization", f"Bearer {key}"),)
        for _ in range(3):
            try:
                stub.TranslateText(request, metadata=metadata, timeout=60)
            except grpc.RpcError as error:
                assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
                break
    refused = requests.post(url, json=body, timeout=60)
    assert refused.status_code == 429
    assert refused.json()["error"].startswith("Slowdown: rate limit of 3 requests")
    assert int(refused.headers["Retry-After"]) >= 1
    native = requests.post(
        f"{_url(app)}/v1/translate",
        json={"contents": ["x"], "targetLanguageCode": "qaa"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )
    assert native.status_code == 429 and native.json()["error"]["status"] == "RESOURCE_EXHAUSTED"


def test_deepl_auth_quota_and_usage(keyed: tuple[App, dict[str, str]]) -> None:
    app, keys = keyed
    url = f"{_url(app)}/v2"
    form = {"text": "The small cat.", "target_lang": "QAA"}
    assert requests.post(f"{url}/translate", data=form, timeout=60).status_code == 403
    bad = {"Authorization": "DeepL-Auth-Key dgm_bad_key"}
    assert requests.post(f"{url}/translate", data=form, headers=bad, timeout=60).status_code == 403
    tiny = {"Authorization": f"DeepL-Auth-Key {keys['tiny']}"}
    ok = requests.post(f"{url}/translate", data=form, headers=tiny, timeout=60)
    assert ok.status_code == 200, ok.text
    usage = requests.get(f"{url}/usage", headers=tiny, timeout=10).json()
    assert usage == {"character_count": len(form["text"]), "character_limit": 20}
    over = requests.post(f"{url}/translate", data=form, headers=tiny, timeout=60)
    assert over.status_code == 456 and "characters" in over.json()["message"]


def test_native_api_wants_a_bearer_key(keyed: tuple[App, dict[str, str]]) -> None:
    app, _ = keyed
    response = requests.get(f"{_url(app)}/v1/models", timeout=10)
    assert response.status_code == 401
    assert response.json()["error"]["status"] == "UNAUTHENTICATED"
