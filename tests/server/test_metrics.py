"""Prometheus metrics: the documented table, the Grafana dashboard, and a live scrape."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import redis
from dragoman.engine.cache import KEY_PREFIX
from dragoman.server.app import App
from dragoman.server.metrics import METRICS, Metrics
from prometheus_client.parser import text_string_to_metric_families

from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "dragoman.json"
_SUFFIXES = ("_bucket", "_count", "_sum", "_total")


def _expressions(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                yield value
            else:
                yield from _expressions(value)
    elif isinstance(node, list):
        for item in node:
            yield from _expressions(item)


def _base_name(sample: str, names: set[str]) -> str:
    """`dragoman_x_seconds_bucket` -> `dragoman_x_seconds` when that is a metric."""
    if sample in names:
        return sample
    for suffix in _SUFFIXES:
        if sample.endswith(suffix) and sample[: -len(suffix)] in names:
            return sample[: -len(suffix)]
    return sample


def test_dashboard_uses_exactly_the_documented_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    documented = {spec.name for spec in METRICS}
    used = {
        _base_name(name, documented)
        for expr in _expressions(dashboard)
        for name in re.findall(r"\bdragoman_[a-z_]+", expr)
    }
    assert used - documented == set(), "the dashboard uses undocumented metrics"
    assert documented - used == set(), "documented metrics missing from the dashboard"


def test_registry_holds_exactly_the_documented_metrics() -> None:
    registry = Metrics().registry
    exported = {family.name for family in registry.collect()}
    assert exported == {spec.name for spec in METRICS}
    for spec in METRICS:
        assert spec.help and spec.kind in {"counter", "gauge", "histogram"}


def test_dashboard_panels_are_well_formed() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["uid"] == "dragoman"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["targets"] and all(t["expr"] for t in panel["targets"])


# --- a live server -------------------------------------------------------------------


def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of /metrics: (name, labels) -> value."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode("utf-8")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    found = [v for (n, ls), v in samples.items() if n == name and wanted <= ls]
    assert found, f"no sample {name}{labels}"
    return sum(found)


TARGET = pb.TranslateTextRequest(
    contents=["the cat walks. the dog eats."],
    source_language_code="eng_Latn",
    target_language_code="fra_Latn",
)


def _stream(stub: Any) -> list[Any]:
    config = pb.StreamingTranslationConfig(
        source_language_code="eng_Latn", target_language_code="fra_Latn"
    )
    messages = [
        pb.StreamTranslateTextRequest(config=config),
        pb.StreamTranslateTextRequest(segment=pb.TranslationSegment(segment_id="1", text="a cat")),
        pb.StreamTranslateTextRequest(segment=pb.TranslationSegment(segment_id="2", text="a dog")),
    ]
    return list(stub.StreamTranslateText(iter(messages), timeout=60))


def _code(call: Any) -> grpc.StatusCode:
    try:
        call()
    except grpc.RpcError as error:
        return error.code()
    return grpc.StatusCode.OK


def test_scrape_after_traffic_finds_every_metric(server_factory: Any, redis_server: Any) -> None:
    app: App = server_factory(
        cache_url=redis_server.url,
        cache={"backoff_s": 30.0},
        rate_limit={"enabled": True, "requests": 10, "window_s": 600},
    )
    assert app.metrics is not None
    metrics_port = app.metrics.serve(0)
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        stub = pb_grpc.TranslationServiceStub(channel)
        first = stub.TranslateText(TARGET, timeout=60)
        second = stub.TranslateText(TARGET, timeout=60)
        assert not first.translations[0].cached and second.translations[0].cached
        assert second.translations[0].translated_text == first.translations[0].translated_text
        raw = redis.Redis.from_url(redis_server.url)
        for key in raw.scan_iter(match=KEY_PREFIX + "*"):
            raw.set(key, '{"h":[["fra_Latn","\u2581forged"]]}')  # written without the secret
        third = stub.TranslateText(TARGET, timeout=60)
        assert not third.translations[0].cached  # refused, translated again
        assert third.translations[0].translated_text == first.translations[0].translated_text
        bad = pb.TranslateTextRequest(contents=["x"], target_language_code="xx_Nope")
        assert (
            _code(lambda: stub.TranslateText(bad, timeout=60)) == grpc.StatusCode.INVALID_ARGUMENT
        )
        assert [r.is_final for r in _stream(stub)][-1]
        redis_server.stop()  # the cache goes away: translations keep flowing
        other = pb.TranslateTextRequest(
            contents=["my friend reads."], target_language_code="fra_Latn"
        )
        assert stub.TranslateText(other, timeout=60).translations[0].translated_text
        codes = [_code(lambda: stub.TranslateText(TARGET, timeout=60)) for _ in range(12)]
        assert grpc.StatusCode.RESOURCE_EXHAUSTED in codes

    samples = scrape(metrics_port)
    translate_ok = {"rpc": "TranslateText", "code": "OK", "model": "nllb"}
    assert value(samples, "dragoman_requests_total", **translate_ok,
                 language_pair="eng_Latn->fra_Latn") >= 2  # fmt: skip
    assert value(samples, "dragoman_requests_total", rpc="TranslateText",
                 code="INVALID_ARGUMENT", model="-", language_pair="-") == 1  # fmt: skip
    assert value(samples, "dragoman_requests_total", rpc="StreamTranslateText", code="OK") == 1
    assert value(samples, "dragoman_requests_total", code="RESOURCE_EXHAUSTED") >= 1
    assert value(samples, "dragoman_request_duration_seconds_count", rpc="TranslateText") >= 5
    assert value(samples, "dragoman_request_duration_seconds_sum", rpc="TranslateText") > 0
    assert value(samples, "dragoman_in_flight_requests", rpc="TranslateText") == 0
    assert value(samples, "dragoman_queue_wait_seconds_count", model="nllb") >= 1
    assert value(samples, "dragoman_engine_duration_seconds_count", model="nllb") >= 1
    batches = value(samples, "dragoman_batch_size_count", model="nllb")
    assert batches >= 1 and value(samples, "dragoman_batch_size_sum", model="nllb") >= batches
    assert value(samples, "dragoman_queue_depth", model="nllb") == 0
    assert value(samples, "dragoman_tokens_in_total", model="nllb") > 0
    assert value(samples, "dragoman_tokens_out_total", model="nllb") > 0
    assert value(samples, "dragoman_cache_hits_total", backend="redis") >= 1
    assert value(samples, "dragoman_cache_misses_total", backend="redis") >= 2  # 1st + outage
    assert value(samples, "dragoman_cache_errors_total", backend="redis", operation="get") >= 1
    assert value(samples, "dragoman_cache_bypassed_total", backend="redis") >= 1
    assert value(samples, "dragoman_cache_up", backend="redis") == 0
    assert value(samples, "dragoman_cache_rejected_total", backend="redis") >= 1
    assert value(samples, "dragoman_rate_limited_total", rpc="TranslateText") >= 1
    assert value(samples, "dragoman_circuit_breaker_state") == 0
    assert value(samples, "dragoman_circuit_breaker_opened_total") == 0
    assert 0 < value(samples, "dragoman_model_load_seconds", model="nllb") < 600
    scraped = {name for name, _ in samples}
    for spec in METRICS:
        assert any(_base_name(n, {spec.name}) == spec.name for n in scraped), spec.name


def _series(app: App, name: str) -> set[tuple[tuple[str, str], ...]]:
    return {
        tuple(sorted(sample.labels.items()))
        for family in app.metrics.registry.collect()  # type: ignore[union-attr]
        for sample in family.samples
        if sample.name == name
    }


def test_label_values_stay_a_fixed_set_whatever_callers_send(server_factory: Any) -> None:
    # 1,000 distinct codes that all resolve (a private-use subtag is dropped), and as
    # many that do not: the series are those of the model's own codes, and `invalid`.
    app = server_factory()
    from concurrent.futures import ThreadPoolExecutor

    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        stub = pb_grpc.TranslationServiceStub(channel)

        def call(index: int) -> None:
            request = pb.TranslateTextRequest(
                contents=["the cat"],
                source_language_code=f"en-x{index:06d}",
                target_language_code=f"fr-x{index:06d}",
            )
            stub.TranslateText(request, timeout=60)
            bogus = pb.TranslateTextRequest(
                contents=["the cat"], target_language_code=f"zz-{index:06d}", model=f"m{index}"
            )
            try:
                stub.TranslateText(bogus, timeout=60)
            except grpc.RpcError as error:
                assert error.code() is grpc.StatusCode.NOT_FOUND

        call(0)
        before = _series(app, "dragoman_requests_total")
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(call, range(1, 1000)))
        after = _series(app, "dragoman_requests_total")
    assert after == before
    pairs = {dict(labels)["language_pair"] for labels in after}
    assert pairs == {"eng_Latn->fra_Latn", "-"}
