"""The edge before authentication: half-open calls, idle streams, bad bytes, slots.

Each attack below exhausted the server before the edge existed: ~70 unary calls that
send headers but never their message took every pool thread (health checks hung);
64 idle streams took every slot for good; malformed request bytes got INTERNAL. Now
a caller holds at most its share of the slots, and only until a receive timeout;
health checks keep answering; other callers keep being served.

Waits are on observable conditions (slot counts, call outcomes) with generous
bounds, never on sleeps that assume a speed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from dragoman.server.access import Surface
from dragoman.server.app import App
from grpc_health.v1 import health_pb2, health_pb2_grpc

from dragoman.admin.v1 import admin_service_pb2 as apb
from dragoman.admin.v1 import admin_service_pb2_grpc as apb_grpc
from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc

ADMIN_TOKEN = "edge-admin-token-0123456789abcdefghij"
TRANSLATE = "/dragoman.translation.v1.TranslationService/TranslateText"
STREAM = "/dragoman.translation.v1.TranslationService/StreamTranslateText"
RECEIVE_S = 3.0  # the edge's receive and idle timeouts in these tests
SLOTS = 16


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture(scope="module")
def edge_app(server_factory: Callable[..., App], tmp_path_factory: pytest.TempPathFactory) -> App:
    db = tmp_path_factory.mktemp("edge") / "keys.sqlite3"
    return server_factory(
        workers=SLOTS,
        auth={"enabled": False, "key_db": str(db), "admin_token": ADMIN_TOKEN},
        connections={"receive_timeout_s": RECEIVE_S, "stream_idle_timeout_s": RECEIVE_S},
    )


@pytest.fixture(scope="module")
def key(edge_app: App) -> str:
    """An API key: with auth off it only names a caller of its own (own slots)."""
    with grpc.insecure_channel(f"127.0.0.1:{edge_app.port}") as channel:
        admin = apb_grpc.AdminServiceStub(channel)
        created = admin.CreateApiKey(
            apb.CreateApiKeyRequest(display_name="other"),
            metadata=(("authorization", f"Bearer {ADMIN_TOKEN}"),),
            timeout=10,
        )
    return str(created.secret)


def _translation_slots(app: App) -> int:
    assert app.capacity is not None
    return app.capacity.slots[Surface.TRANSLATION].in_flight


def _healthy(channel: grpc.Channel) -> str:
    response = health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(), timeout=10
    )
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(response.status))


def _translate(channel: grpc.Channel, metadata: Any = None) -> pb.TranslateTextResponse:
    stub = pb_grpc.TranslationServiceStub(channel)
    request = pb.TranslateTextRequest(contents=["Hi."], target_language_code="fra_Latn")
    return stub.TranslateText(request, metadata=metadata, timeout=60)


def _never(release: threading.Event, first: Any = None) -> Iterator[Any]:
    """Request messages: `first` (if any), then nothing until `release`."""
    if first is not None:
        yield first
    release.wait(120)


def _codes(calls: list[Any], timeout: float = 60.0) -> list[grpc.StatusCode]:
    codes = []
    for call in calls:
        try:
            call.result(timeout=timeout) if hasattr(call, "result") else list(call)
            codes.append(grpc.StatusCode.OK)
        except grpc.RpcError as error:
            codes.append(error.code())
    return codes


def test_half_open_unary_calls_hold_a_bounded_share_for_a_bounded_time(
    edge_app: App, key: str
) -> None:
    # 70 TranslateText calls that send headers and never the message: a stream-unary
    # call to a unary method is exactly that on the wire.
    release = threading.Event()
    with grpc.insecure_channel(f"127.0.0.1:{edge_app.port}") as channel:
        half_open = channel.stream_unary(TRANSLATE)
        calls = [half_open.future(_never(release), timeout=120) for _ in range(70)]
        try:
            per_caller = edge_app.settings.workers * 3 // 4
            _wait_for(lambda: _translation_slots(edge_app) >= per_caller, "the share to fill")
            # The attacker holds its share only; probes and other callers are served.
            assert _healthy(channel) == "SERVING"
            assert _translate(channel, (("authorization", f"Bearer {key}"),)).translations
            codes = _codes(calls)
        finally:
            release.set()
    refused = codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED)
    timed_out = codes.count(grpc.StatusCode.DEADLINE_EXCEEDED)
    assert (refused, timed_out) == (70 - per_caller, per_caller), codes
    _wait_for(lambda: _translation_slots(edge_app) == 0, "the slots to be given back")


def test_the_receive_timeout_says_what_happened(edge_app: App) -> None:
    release = threading.Event()
    with grpc.insecure_channel(f"127.0.0.1:{edge_app.port}") as channel:
        call = channel.stream_unary(TRANSLATE).future(_never(release), timeout=120)
        with pytest.raises(grpc.RpcError) as caught:
            call.result(timeout=60)
        release.set()
    error: Any = caught.value
    assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert f"no request message arrived within {RECEIVE_S:g} s" in error.details()


def _config() -> pb.StreamTranslateTextRequest:
    return pb.StreamTranslateTextRequest(
        config=pb.StreamingTranslationConfig(target_language_code="fra_Latn")
    )


def test_64_idle_streams_do_not_lock_out_anyone(edge_app: App, key: str) -> None:
    release = threading.Event()
    with grpc.insecure_channel(f"127.0.0.1:{edge_app.port}") as channel:
        stub = pb_grpc.TranslationServiceStub(channel)
        streams = [
            stub.StreamTranslateText(_never(release, _config()), timeout=120) for _ in range(64)
        ]
        try:
            share = edge_app.settings.workers // 2
            _wait_for(lambda: _translation_slots(edge_app) >= share, "the idle streams")
            assert _healthy(channel) == "SERVING"
            assert _translate(channel, (("authorization", f"Bearer {key}"),)).translations
            codes = _codes(streams)
        finally:
            release.set()
    assert codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) == 64 - share, codes
    assert codes.count(grpc.StatusCode.DEADLINE_EXCEEDED) == share, codes
    _wait_for(lambda: _translation_slots(edge_app) == 0, "the slots to be given back")


def test_an_idle_stream_is_told_why_it_ends(edge_app: App) -> None:
    release = threading.Event()
    segment = pb.StreamTranslateTextRequest(segment=pb.TranslationSegment(text="Hi."))

    def requests() -> Iterator[pb.StreamTranslateTextRequest]:
        yield _config()
        yield segment
        release.wait(120)

    with grpc.insecure_channel(f"127.0.0.1:{edge_app.port}") as channel:
        stub = pb_grpc.TranslationServiceStub(channel)
        call = stub.StreamTranslateText(requests(), timeout=120)
        answers = []
        with pytest.raises(grpc.RpcError) as caught:
            answers.extend(call)
        release.set()
    assert [a.is_final for a in answers][-1:] == [True], "the segment sent was answered"
    error: Any = caught.value
    assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert f"sent nothing for {RECEIVE_S:g} s" in error.details()


def test_a_stream_that_never_sends_its_config(edge_app: App) -> None:
    release = threading.Event()
    with grpc.insecure_channel(f"127.0.0.1:{edge_app.port}") as channel:
        stub = pb_grpc.TranslationServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            list(stub.StreamTranslateText(_never(release), timeout=120))
        release.set()
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED  # type: ignore[attr-defined]


MALFORMED = {
    "translate": (TRANSLATE, "unary", "dragoman.translation.v1.TranslateTextRequest"),
    "stream": (STREAM, "stream", "dragoman.translation.v1.StreamTranslateTextRequest"),
    "health": ("/grpc.health.v1.Health/Check", "unary", "grpc.health.v1.HealthCheckRequest"),
    "detect": (
        "/dragoman.translation.v1.TranslationService/DetectLanguage",
        "unary",
        "dragoman.translation.v1.DetectLanguageRequest",
    ),
}


@pytest.mark.parametrize(("method", "kind", "type_name"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_request_bytes_are_invalid_argument(
    edge_app: App, method: str, kind: str, type_name: str
) -> None:
    garbage = b"\x0a\xff\xff\xff\xff\x0f"  # field 1, length-delimited, length past the end
    with grpc.insecure_channel(f"127.0.0.1:{edge_app.port}") as channel:
        with pytest.raises(grpc.RpcError) as caught:
            if kind == "unary":
                channel.unary_unary(method)(garbage, timeout=30)
            else:
                list(channel.stream_stream(method)(iter([garbage]), timeout=30))
        assert _healthy(channel) == "SERVING"
    error: Any = caught.value
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.details()
    assert f"is not a valid {type_name}" in error.details()


def test_a_unary_call_without_its_message(edge_app: App) -> None:
    with (
        grpc.insecure_channel(f"127.0.0.1:{edge_app.port}") as channel,
        pytest.raises(grpc.RpcError) as caught,
    ):
        channel.stream_unary(TRANSLATE)(iter([]), timeout=30)
    error: Any = caught.value
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "TranslateText takes one request message" in error.details()


def test_probes_have_threads_of_their_own(edge_app: App, tmp_path: Path) -> None:
    # Every translation slot busy (from several callers: keys would do; here the
    # slots are taken directly) and health still answers at once.
    assert edge_app.capacity is not None
    slots = edge_app.capacity.slots[Surface.TRANSLATION]
    held = [slots.hold(f"caller-{i}") for i in range(slots.limits.total)]
    for hold in held:
        hold.__enter__()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{edge_app.port}") as channel:
            assert _healthy(channel) == "SERVING"
            with pytest.raises(grpc.RpcError) as caught:
                _translate(channel)
    finally:
        for hold in held:
            hold.__exit__(None, None, None)
    error: Any = caught.value
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert f"maximum of {SLOTS} concurrent translation calls" in error.details()


class _Aborted(Exception):
    pass


class _Context:
    """Just what BoundedRequests uses of a servicer context."""

    def __init__(self) -> None:
        self.status: tuple[grpc.StatusCode, str] | None = None

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        self.status = (code, details)
        raise _Aborted(details)


def test_bounded_requests_over_any_iterator_use_a_reader_thread() -> None:
    # gRPC's own iterator is waited on directly; any other one (here a generator) by a
    # reader thread, with the same timeouts.
    from concurrent import futures

    from dragoman.server.edge import BoundedRequests, Timeouts

    release = threading.Event()

    def messages() -> Iterator[str]:
        yield "first"
        release.wait(30)

    context = _Context()
    with futures.ThreadPoolExecutor(2) as readers:
        requests = BoundedRequests(messages(), context, readers, Timeouts(5.0, 0.3))  # type: ignore[arg-type]
        assert next(requests) == "first"
        with pytest.raises(_Aborted):
            next(requests)
        release.set()
    assert context.status is not None
    code, details = context.status
    assert code is grpc.StatusCode.DEADLINE_EXCEEDED and "sent nothing for 0.3 s" in details


def test_grpc_own_request_iterator_is_waited_on_in_the_calls_thread() -> None:
    # The edge waits on gRPC's request iterator through attributes grpcio does not
    # promise (pinned in pyproject). If an upgrade renames them, the edge still works,
    # with a reader thread per waiting call: this test says so before a release does.
    from concurrent import futures

    from dragoman.server.edge import _Receiver
    from grpc._server import _RequestIterator

    with futures.ThreadPoolExecutor(1) as readers:
        receiver = _Receiver(_RequestIterator(None, None, None), readers)  # type: ignore[arg-type]
        assert receiver._inline
