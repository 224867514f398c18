"""32 concurrent clients: correct results, and the batcher merges their segments.

Merging is observed through the engine's counters, not through timing: with
batching on, some batch holds segments of several requests; with it off, none does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import grpc
from dragoman.server.app import App

from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc

CLIENTS = 32
WORDS = [
    "the",
    "small",
    "red",
    "dog",
    "walks",
    "near",
    "my",
    "big",
    "house",
    "under",
    "a",
    "green",
    "tree",
    "today",
]
GREEDY = pb.TranslationOptions(quality=pb.QUALITY_FAST)


def _text(index: int) -> str:
    words = [WORDS[(index * 7 + k) % len(WORDS)] for k in range(4 + index % 6)]
    return " ".join(words).capitalize() + "."


def _translate(stub: pb_grpc.TranslationServiceStub, text: str) -> str:
    request = pb.TranslateTextRequest(
        contents=[text], source_language_code="en", target_language_code="fr", options=GREEDY
    )
    return str(stub.TranslateText(request, timeout=120).translations[0].translated_text)


def _run_clients(app: App) -> tuple[list[str], list[str]]:
    """Expected (one at a time) and concurrent results of CLIENTS texts."""
    texts = [_text(i) for i in range(CLIENTS)]
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        stub = pb_grpc.TranslationServiceStub(channel)
        expected = [_translate(stub, text) for text in texts]
        start = threading.Barrier(CLIENTS)

        def client(text: str) -> str:
            # Each client its own channel (connection), as separate processes would.
            with grpc.insecure_channel(f"127.0.0.1:{app.port}") as own:
                own_stub = pb_grpc.TranslationServiceStub(own)
                grpc.channel_ready_future(own).result(timeout=30)
                start.wait(timeout=60)
                return _translate(own_stub, text)

        with ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(client, texts))
    return expected, results


def test_32_concurrent_clients_are_batched_together(server_factory: Callable[..., App]) -> None:
    # No translation cache: the concurrent pass repeats the sequential pass's texts.
    app = server_factory(
        batching={"enabled": True, "max_wait_ms": 50, "max_batch_size": 64},
        cache={"enabled": False},
    )
    before = app.engine.stats
    expected, results = _run_clients(app)
    after = app.engine.stats
    assert results == expected
    assert after.requests - before.requests == 2 * CLIENTS
    assert after.merged_batches > before.merged_batches
    assert after.max_batch_size > 1
    # Fewer batches than requests: the concurrent half shared batches.
    assert after.batches - before.batches < 2 * CLIENTS


def test_without_batching_each_request_runs_alone(server_factory: Callable[..., App]) -> None:
    app = server_factory(batching={"enabled": False}, cache={"enabled": False})
    expected, results = _run_clients(app)
    stats = app.engine.stats
    assert results == expected
    assert stats.merged_batches == 0
    assert stats.max_batch_size == 1
