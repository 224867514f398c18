"""Lifecycle: NOT_SERVING until the models are warm; graceful drain in process and on
SIGTERM to a real `dragoman serve` process (in-flight RPCs finish, new ones are
refused, exit code 0)."""

from __future__ import annotations

import json
import queue
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from dragoman.server.app import App
from grpc_health.v1 import health_pb2_grpc

from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc

REQUEST = pb.TranslateTextRequest(contents=["The cat walks."], target_language_code="fr")
_END = object()


class Stream:
    """A bidirectional stream whose requests the test sends one at a time."""

    def __init__(self, stub: pb_grpc.TranslationServiceStub) -> None:
        self._outbox: queue.Queue[Any] = queue.Queue()
        self._call = stub.StreamTranslateText(self._requests(), timeout=120)
        self.send(
            pb.StreamTranslateTextRequest(
                config=pb.StreamingTranslationConfig(target_language_code="fr")
            )
        )

    def _requests(self) -> Iterator[pb.StreamTranslateTextRequest]:
        while (item := self._outbox.get(timeout=120)) is not _END:
            yield item

    def send(self, request: pb.StreamTranslateTextRequest) -> None:
        self._outbox.put(request)

    def translate(self, segment_id: str, text: str) -> pb.StreamTranslateTextResponse:
        """Sends a segment and returns its final result."""
        self.send(
            pb.StreamTranslateTextRequest(
                segment=pb.TranslationSegment(segment_id=segment_id, text=text)
            )
        )
        while not (response := next(self._call)).is_final:
            pass
        return response

    def ended(self) -> grpc.RpcError:
        """Waits for the server to end the stream; its error (the test asserts one)."""
        with pytest.raises(grpc.RpcError) as caught:
            list(self._call)
        self._outbox.put(_END)
        return caught.value


class HeldCall:
    """A TranslateText in flight whose request message the test sends when it likes.

    The server admits the call when it starts (headers) and waits for the message, so
    a drain must wait for it: the test decides when the drain may end, with no race.
    """

    def __init__(self, channel: grpc.Channel) -> None:
        self._release = threading.Event()
        call = channel.stream_unary(
            "/dragoman.translation.v1.TranslationService/TranslateText",
            request_serializer=pb.TranslateTextRequest.SerializeToString,
            response_deserializer=pb.TranslateTextResponse.FromString,
        )
        self._future = call.future(self._requests(), timeout=120)
        # The server sends its initial metadata (x-request-id) as it admits the call.
        self._future.initial_metadata()

    def _requests(self) -> Iterator[pb.TranslateTextRequest]:
        self._release.wait(120)
        yield REQUEST

    def finish(self) -> pb.TranslateTextResponse:
        """Sends the message; the response."""
        self._release.set()
        return self._future.result(timeout=120)  # type: ignore[no-any-return]


def _wait_for(predicate: Callable[[], bool], attempts: int = 600) -> bool:
    """Polls a condition (bounded; no assertion on how long it takes)."""
    pause = threading.Event()
    for _ in range(attempts):
        if predicate():
            return True
        pause.wait(0.05)
    return False


def _status(health: health_pb2_grpc.HealthStub, check_health: Callable[..., str]) -> str:
    try:
        return check_health(health)
    except grpc.RpcError as error:
        return f"error {error.code().name}"  # type: ignore[attr-defined]


def test_not_serving_until_the_models_are_loaded(
    server_factory: Callable[..., App], check_health: Callable[..., str]
) -> None:
    app = server_factory(load=False)
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        stub = pb_grpc.TranslationServiceStub(channel)
        assert check_health(health) == "NOT_SERVING"
        assert check_health(health, "dragoman.translation.v1.TranslationService") == "NOT_SERVING"
        with pytest.raises(grpc.RpcError) as caught:
            stub.TranslateText(REQUEST, timeout=30)
        error: Any = caught.value
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        assert "still loading" in error.details()
        app.load()
        assert check_health(health) == "SERVING"
        assert stub.TranslateText(REQUEST, timeout=30).translations[0].translated_text


def test_stop_finishes_in_flight_rpcs_and_refuses_new_ones(
    server_factory: Callable[..., App], check_health: Callable[..., str]
) -> None:
    app = server_factory()
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        stub = pb_grpc.TranslationServiceStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        held = HeldCall(channel)
        stream = Stream(stub)
        first = stream.translate("1", "The dog eats.")
        assert _wait_for(lambda: app.gate.in_flight == 2)
        stopper = threading.Thread(target=app.stop, kwargs={"grace": 60})
        stopper.start()
        assert _wait_for(lambda: _status(health, check_health) == "NOT_SERVING")
        with pytest.raises(grpc.RpcError) as caught:
            stub.TranslateText(REQUEST, timeout=30)
        error: Any = caught.value
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        assert "shutting down" in error.details()
        # The stream open before the stop had its segment answered; the server ends it
        # before reading more (retryable: reopen it elsewhere), so the drain waits for
        # work in progress, not for the 60 s grace period.
        assert first.is_final
        ended: Any = stream.ended()
        assert ended.code() == grpc.StatusCode.UNAVAILABLE
        assert "open the stream again" in ended.details()
        # The call admitted before the stop is still served.
        assert stopper.is_alive()
        assert held.finish().translations[0].translated_text
        assert _wait_for(lambda: not stopper.is_alive(), attempts=1200)
        assert app.gate.in_flight == 0


def test_sigterm_drains_a_real_serve_process(
    tiny_nllb_dir: Path, check_health: Callable[..., str], serve_process: Callable[..., Any]
) -> None:
    server = serve_process(
        ["--model", f"tiny={tiny_nllb_dir}", "--port", "0", "--device", "cpu",
         "--intra-threads", "1", "--grace-period", "60", "--log-format", "json",
         "--http-port", "0"]
    )  # fmt: skip
    try:
        port = server.port()
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.TranslationServiceStub(channel)
            health = health_pb2_grpc.HealthStub(channel)
            assert check_health(health) == "SERVING"
            held = HeldCall(channel)  # keeps the drain going until the test is done
            stream = Stream(stub)
            first = stream.translate("before", "The dog eats.")
            server.proc.send_signal(signal.SIGTERM)
            assert _wait_for(lambda: _status(health, check_health) == "NOT_SERVING"), (
                _status(health, check_health) + "\n" + "".join(server.log)
            )
            with pytest.raises(grpc.RpcError) as caught:
                stub.TranslateText(REQUEST, timeout=30)
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]
            assert first.is_final
            assert stream.ended().code() == grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]
            assert held.finish().translations
        assert server.proc.wait(timeout=120) == 0, "".join(server.log)
        records = [json.loads(line) for line in server.log if line.startswith("{")]
        messages = [record["message"] for record in records]
        assert "shutting down" in messages and "stopped" in messages
        # One JSON line per RPC, with its request id, method and status.
        assert not any("after the grace period" in m for m in messages), "".join(server.log)
        calls = [r for r in records if r.get("method", "").endswith("/TranslateText")]
        assert sorted(r["code"] for r in calls) == ["OK", "UNAVAILABLE"], "".join(server.log)
        refused = next(r for r in calls if r["code"] == "UNAVAILABLE")
        assert len(refused["request_id"]) == 32 and refused["duration_ms"] >= 0
    finally:
        server.kill()
