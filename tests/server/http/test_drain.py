"""Drain over HTTP, in App.stop's order: readiness goes 503, new calls get 503 in the API's
shape, the call in flight finishes with its full answer, then the server stops."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from dragoman.server.app import App

from .conftest import demo_models

POLL_S = 0.005


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(POLL_S)


def test_in_flight_http_call_finishes_and_new_ones_are_refused(
    demo_model_dir: Path, server_factory: Callable[..., App]
) -> None:
    from dragoman.finetune.demo.corpus import CorpusSpec, build_corpus

    app = server_factory(models=demo_models(demo_model_dir), cache={"enabled": False})
    assert app.http is not None
    url = app.http.url
    corpus = build_corpus(CorpusSpec())
    texts = [row["eng_Latn"] for row in (corpus.test + corpus.dev)][:1024]
    body = {"q": texts, "source": "en", "target": "qab_Latn"}
    with ThreadPoolExecutor(1) as pool:
        big = pool.submit(requests.post, f"{url}/translate", json=body, timeout=600)
        _wait_for(lambda: app.gate.in_flight >= 1 or big.done(), "the big call to start")
        stopper = threading.Thread(target=app.stop, kwargs={"grace": 300.0})
        stopper.start()
        _wait_for(lambda: not app.health.serving, "NOT_SERVING")
        ready = requests.get(f"{url}/readyz", timeout=10)
        refused = requests.post(f"{url}/translate", json={**body, "q": "Hi."}, timeout=10)
        deepl = requests.post(f"{url}/v2/translate", data={"text": "Hi.", "target_lang": "QAA"})
        answer = big.result(timeout=600)
    stopper.join(timeout=120)
    assert (ready.status_code, ready.json()) == (503, {"status": "NOT_SERVING"})
    assert refused.status_code == 503 and "shutting down" in refused.json()["error"]
    assert deepl.status_code == 503 and "shutting down" in deepl.json()["message"]
    assert answer.status_code == 200, answer.text[:300]
    assert len(answer.json()["translatedText"]) == len(texts)
    assert not stopper.is_alive()
