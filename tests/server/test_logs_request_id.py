"""JSON logs: every line logged while serving an RPC carries its request id."""

from __future__ import annotations

import io
import json
import logging
import socket
from typing import Any

import grpc
from dragoman.server.logs import JsonFormatter, RequestIdFilter

from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc


def test_cache_outage_log_line_carries_the_request_id(server_factory: Any) -> None:
    with socket.socket() as probe:  # a port nobody listens on: Redis is "down"
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    # No warm-up: the first cache lookup, and its warning, happen inside the RPC.
    app = server_factory(cache_url=f"redis://127.0.0.1:{dead}/0", warmup=False)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
            stub = pb_grpc.TranslationServiceStub(channel)
            request = pb.TranslateTextRequest(contents=["a new cat"], target_language_code="fr")
            response = stub.TranslateText(
                request, timeout=60, metadata=(("x-request-id", "req-cache-42"),)
            )
            assert response.translations[0].translated_text  # translated without the cache
    finally:
        root.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    outage = [line for line in lines if line["logger"] == "dragoman.engine.cache.redis_backend"]
    assert outage and outage[0]["level"] == "WARNING"
    assert "translation cache unavailable" in outage[0]["message"]
    assert outage[0]["request_id"] == "req-cache-42"
