"""The circuit breaker seen from a client: UNAVAILABLE, health, recovery, metrics.

The engine failure is injected (a CTranslate2 translator that raises like a lost GPU):
a fault the tests cannot cause with a healthy model.
"""

from __future__ import annotations

import time
from typing import Any

import grpc
import pytest
from dragoman.server.app import App
from grpc_health.v1 import health_pb2, health_pb2_grpc

from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc

REQUEST = pb.TranslateTextRequest(contents=["the cat"], target_language_code="fra_Latn")
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class FlakyTranslator:
    """A CTranslate2 translator that fails while `failing` is set."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.failing = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def translate_batch(self, *args: Any, **kwargs: Any) -> Any:
        if self.failing:
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return self.real.translate_batch(*args, **kwargs)


@pytest.fixture(scope="module")
def flaky(server_factory: Any) -> tuple[App, FlakyTranslator]:
    app: App = server_factory(
        cache={"enabled": False},
        circuit_breaker={"failure_threshold": 2, "reset_timeout_s": 1.5},
    )
    model = app.engine._resolve("nllb").model  # fault injection point
    translator = FlakyTranslator(model.translator)
    model.translator = translator
    return app, translator


def code_of(stub: Any) -> grpc.StatusCode:
    try:
        stub.TranslateText(REQUEST, timeout=60)
    except grpc.RpcError as error:
        return error.code()
    return grpc.StatusCode.OK


def health(channel: grpc.Channel) -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    return stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=10).status


def wait_for_health(channel: grpc.Channel, status: int) -> bool:
    for _ in range(800):
        if health(channel) == status:
            return True
        time.sleep(0.025)
    return False


def gauge(app: App, name: str) -> float:
    assert app.metrics is not None
    value = app.metrics.registry.get_sample_value(name)
    assert value is not None
    return value


def test_open_unavailable_not_serving_then_half_open_and_closed(
    flaky: tuple[App, FlakyTranslator],
) -> None:
    app, translator = flaky
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        stub = pb_grpc.TranslationServiceStub(channel)
        assert code_of(stub) == grpc.StatusCode.OK
        translator.failing = True
        assert [code_of(stub), code_of(stub)] == [grpc.StatusCode.INTERNAL] * 2
        with pytest.raises(grpc.RpcError) as refused:
            stub.TranslateText(REQUEST, timeout=60)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "circuit breaker is open" in (refused.value.details() or "")
        # Another caller's failure is not this caller's business.
        assert "illegal memory access" not in (refused.value.details() or "")
        assert "illegal memory access" in app.engine.breaker.status().last_error  # admin only
        assert health(channel) == NOT_SERVING
        assert gauge(app, "dragoman_circuit_breaker_state") == 2
        assert gauge(app, "dragoman_circuit_breaker_opened_total") == 1

        translator.failing = False  # the device is back
        assert wait_for_health(channel, SERVING)  # half-open after the timeout
        assert gauge(app, "dragoman_circuit_breaker_state") == 1
        assert code_of(stub) == grpc.StatusCode.OK  # the trial call closes it
        assert gauge(app, "dragoman_circuit_breaker_state") == 0
        assert health(channel) == SERVING


def test_callers_mistakes_never_open_it(flaky: tuple[App, FlakyTranslator]) -> None:
    app, _ = flaky
    bad = pb.TranslateTextRequest(contents=["x"], target_language_code="xx_Nope")
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        stub = pb_grpc.TranslationServiceStub(channel)
        for _ in range(5):
            with pytest.raises(grpc.RpcError) as error:
                stub.TranslateText(bad, timeout=60)
            assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert code_of(stub) == grpc.StatusCode.OK
        assert health(channel) == SERVING


def test_malformed_markup_never_opens_it(flaky: tuple[App, FlakyTranslator]) -> None:
    """Markup is parsed while the text is prepared, outside the breaker's one call."""
    app, _ = flaky
    breaker = app.engine.breaker
    assert breaker is not None
    documents = ["<b><i>The cat</b></i>", "The cat</i> sees.", "<p>Use <code>x</p>"] * 2
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        stub = pb_grpc.TranslationServiceStub(channel)
        for document in [*documents, "<p><![x[y]]></p>"]:
            request = pb.TranslateTextRequest(
                contents=[document], target_language_code="fra_Latn", mime_type="text/html"
            )
            with pytest.raises(grpc.RpcError) as error:
                stub.TranslateText(request, timeout=60)
            assert error.value.code() != grpc.StatusCode.UNAVAILABLE
            if document in documents:
                assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
                assert "markup" in (error.value.details() or "")
        assert breaker.status().consecutive_failures == 0
        assert health(channel) == SERVING
        assert code_of(stub) == grpc.StatusCode.OK


def test_admin_reset_closes_it(flaky: tuple[App, FlakyTranslator]) -> None:
    app, translator = flaky
    breaker = app.engine.breaker
    assert breaker is not None
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        stub = pb_grpc.TranslationServiceStub(channel)
        translator.failing = True
        try:
            code_of(stub), code_of(stub)
            assert code_of(stub) == grpc.StatusCode.UNAVAILABLE
            assert health(channel) == NOT_SERVING
        finally:
            translator.failing = False
        breaker.reset()
        assert health(channel) == SERVING
        assert code_of(stub) == grpc.StatusCode.OK
        assert gauge(app, "dragoman_circuit_breaker_state") == 0


def test_featured_requests_count_too(flaky: tuple[App, FlakyTranslator]) -> None:
    """Glossary requests go through the same batcher to CTranslate2: its failures count."""
    app, translator = flaky
    breaker = app.engine.breaker
    assert breaker is not None
    glossary = pb.TranslateTextRequest(
        contents=["the cat"],
        target_language_code="fra_Latn",
        glossary_config=pb.TranslationGlossaryConfig(
            entries=[pb.GlossaryEntry(source_term="cat", target_term="chat")]
        ),
    )
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        stub = pb_grpc.TranslationServiceStub(channel)
        translator.failing = True
        try:
            for _ in range(2):
                with pytest.raises(grpc.RpcError) as error:
                    stub.TranslateText(glossary, timeout=60)
                assert error.value.code() == grpc.StatusCode.INTERNAL
            assert code_of(stub) == grpc.StatusCode.UNAVAILABLE
        finally:
            translator.failing = False
            breaker.reset()
        assert stub.TranslateText(glossary, timeout=60).translations[0].translated_text
