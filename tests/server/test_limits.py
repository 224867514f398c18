"""Rate limits and the concurrent-RPC bound, observed through status codes and details."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from dragoman.admin.v1 import admin_service_pb2 as apb
from dragoman.admin.v1 import admin_service_pb2_grpc as apb_grpc
from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc

ADMIN_TOKEN = "limits-admin-token-0123456789abcdef"
ADMIN = (("authorization", f"Bearer {ADMIN_TOKEN}"),)
WINDOW_S = 600.0  # long enough that no token comes back during a test


def bearer(key: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {key}"),)


def translate(stub: Any, texts: list[str], metadata: Any = None) -> pb.TranslateTextResponse:
    request = pb.TranslateTextRequest(
        contents=texts, source_language_code="eng_Latn", target_language_code="fra_Latn"
    )
    return stub.TranslateText(request, metadata=metadata, timeout=30)


def details(error: grpc.RpcError) -> tuple[float | None, list[str]]:
    """(RetryInfo delay in seconds or None, QuotaFailure subjects) of a refusal."""
    status = rpc_status.from_call(error)
    assert status is not None, "no grpc-status-details-bin trailer"
    assert status.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
    delay, subjects = None, []
    for detail in status.details:
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            delay = info.retry_delay.ToNanoseconds() / 1e9
        if detail.Is(error_details_pb2.QuotaFailure.DESCRIPTOR):
            quota = error_details_pb2.QuotaFailure()
            detail.Unpack(quota)
            subjects = [v.subject for v in quota.violations]
    return delay, subjects


@pytest.fixture(scope="module")
def limited(server_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    db = tmp_path_factory.mktemp("limits") / "keys.sqlite3"
    return server_factory(
        auth={"enabled": True, "key_db": str(db), "admin_token": ADMIN_TOKEN},
        rate_limit={"enabled": True, "window_s": WINDOW_S, "requests": 100, "characters": 10_000},
    )


@pytest.fixture(scope="module")
def chan(limited: Any) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{limited.port}") as channel:
        yield channel


@pytest.fixture(scope="module")
def stub(chan: grpc.Channel) -> pb_grpc.TranslationServiceStub:
    return pb_grpc.TranslationServiceStub(chan)


def new_key(chan: grpc.Channel, **limits: int) -> tuple[str, str]:
    created = apb_grpc.AdminServiceStub(chan).CreateApiKey(
        apb.CreateApiKeyRequest(**limits), metadata=ADMIN, timeout=10
    )
    return created.secret, created.api_key.key_id


def rejections(app: Any, rpc: str, limit: str) -> float:
    """The value of `dragoman_rate_limited_total{rpc, limit}` on `app`."""
    labels = {"rpc": rpc, "limit": limit}
    value = app.metrics.registry.get_sample_value("dragoman_rate_limited_total", labels)
    return value or 0.0


def test_request_limit_answers_resource_exhausted_with_retry_info(
    limited: Any, chan: grpc.Channel, stub: pb_grpc.TranslationServiceStub
) -> None:
    before = rejections(limited, "TranslateText", "requests")
    key, key_id = new_key(chan, request_limit=2)
    other, _ = new_key(chan, request_limit=2)
    for _ in range(2):
        assert translate(stub, ["the cat"], bearer(key)).translations
    with pytest.raises(grpc.RpcError) as info:
        translate(stub, ["the cat"], bearer(key))
    error = info.value
    assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "2 requests" in error.details()
    delay, subjects = details(error)
    # One token comes back every WINDOW_S / 2 seconds.
    assert delay is not None and 0 < delay <= WINDOW_S / 2
    assert subjects == [key_id]
    trailers = dict(error.trailing_metadata())
    assert 1 <= int(trailers["retry-after"]) <= WINDOW_S / 2
    # Budgets are per key: another key still gets through.
    assert translate(stub, ["the cat"], bearer(other)).translations
    assert rejections(limited, "TranslateText", "requests") == before + 1


def test_character_limit(
    limited: Any, chan: grpc.Channel, stub: pb_grpc.TranslationServiceStub
) -> None:
    before = rejections(limited, "TranslateText", "characters")
    key, _ = new_key(chan, character_limit=12)
    with pytest.raises(grpc.RpcError) as info:
        translate(stub, ["the cat sees the dog"], bearer(key))  # 20 > 12: can never pass
    assert info.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "split" in info.value.details()
    assert details(info.value)[0] is None  # no retry can help
    assert translate(stub, ["the cat", "a dog"], bearer(key)).translations  # 12 characters
    with pytest.raises(grpc.RpcError) as info:
        translate(stub, ["a"], bearer(key))
    assert info.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert details(info.value)[0] is not None
    assert rejections(limited, "TranslateText", "characters") == before + 2


def stream_requests(texts: list[str], hold: threading.Event | None = None) -> Iterator[Any]:
    yield pb.StreamTranslateTextRequest(
        config=pb.StreamingTranslationConfig(
            source_language_code="eng_Latn", target_language_code="fra_Latn"
        )
    )
    for index, text in enumerate(texts):
        yield pb.StreamTranslateTextRequest(
            segment=pb.TranslationSegment(segment_id=str(index), text=text)
        )
    if hold is not None:
        hold.wait(timeout=60)


def test_stream_is_charged_per_segment(
    limited: Any, chan: grpc.Channel, stub: pb_grpc.TranslationServiceStub
) -> None:
    before = rejections(limited, "StreamTranslateText", "characters")
    key, _ = new_key(chan, character_limit=10)
    responses = stub.StreamTranslateText(
        stream_requests(["the cat", "the dog", "a tree"]), metadata=bearer(key), timeout=30
    )
    answered = []
    with pytest.raises(grpc.RpcError) as info:
        for response in responses:
            if response.is_final:
                answered.append(response.segment_id)
    assert answered == ["0"], "the segment within budget is answered, the rest refused"
    assert info.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert details(info.value)[0] is not None
    assert rejections(limited, "StreamTranslateText", "characters") == before + 1


def test_admin_is_not_rate_limited(stub: pb_grpc.TranslationServiceStub) -> None:
    for _ in range(3):
        assert translate(stub, ["x" * 5000], ADMIN).translations


def test_anonymous_callers_are_limited_by_address(server_factory: Any) -> None:
    app = server_factory(rate_limit={"enabled": True, "window_s": WINDOW_S, "requests": 1})
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        stub = pb_grpc.TranslationServiceStub(channel)
        assert translate(stub, ["the cat"]).translations
        with pytest.raises(grpc.RpcError) as info:
            translate(stub, ["the cat"])
    assert info.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert details(info.value)[1] == ["peer:ipv4:127.0.0.1"]


def test_max_concurrent_rpcs(server_factory: Any) -> None:
    app = server_factory(max_concurrent_rpcs=2)
    hold = threading.Event()
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        stub = pb_grpc.TranslationServiceStub(channel)
        streams = [
            stub.StreamTranslateText(stream_requests(["the cat"], hold), timeout=60)
            for _ in range(2)
        ]
        try:
            for stream in streams:  # both are being served once their first answer is back
                assert next(stream).segment_id == "0"
            with pytest.raises(grpc.RpcError) as info:
                translate(stub, ["the cat"])
            assert info.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "maximum of 2 concurrent" in info.value.details()
            assert details(info.value)[0] == pytest.approx(1.0)
            # Probes are exempt: a busy server is not an unhealthy one.
            health = health_pb2_grpc.HealthStub(channel)
            status = health.Check(health_pb2.HealthCheckRequest(), timeout=10)
            assert status.status == health_pb2.HealthCheckResponse.SERVING
            refused = app.metrics.registry.get_sample_value(
                "dragoman_requests_total",
                {"rpc": "TranslateText", "code": "RESOURCE_EXHAUSTED", "model": "-",
                 "language_pair": "-"},
            )  # fmt: skip
            assert refused == 1
        finally:
            hold.set()
            for stream in streams:
                list(stream)
        # Freed slots serve again (the server counts a call done just after the client).
        for _attempt in range(50):
            try:
                assert translate(stub, ["the cat"]).translations
                break
            except grpc.RpcError as error:
                assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
                threading.Event().wait(0.1)
        else:
            pytest.fail("the server kept refusing after the streams ended")


def test_full_engine_queue_answers_resource_exhausted_with_retry_info(
    server_factory: Any,
) -> None:
    # An empty queue always admits a request; a second one while the first's 300
    # segments wait (one per batch) does not fit a queue of 10. The small requests go
    # only once the big one is seen in the queue, so they cannot get there first.
    app = server_factory(
        batching={"max_queue_segments": 10, "max_batch_size": 1}, cache={"enabled": False}
    )
    big = [f"the cat sees the dog number {i}" for i in range(300)]
    refusal: grpc.RpcError | None = None
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        stub = pb_grpc.TranslationServiceStub(channel)
        for _attempt in range(5):
            with futures.ThreadPoolExecutor(1) as pool:
                first = pool.submit(translate, stub, big)
                while app.engine.stats.queue_depth <= 2 and not first.done():
                    time.sleep(0.001)
                while refusal is None and not first.done():
                    try:
                        translate(stub, ["the dog", "a tree"])
                    except grpc.RpcError as error:
                        refusal = error
                assert len(first.result().translations) == 300
            if refusal is not None:
                break
    assert refusal is not None, "the queue never filled up"
    assert refusal.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "queue" in refusal.details()
    assert details(refusal)[0] == pytest.approx(1.0)
    assert dict(refusal.trailing_metadata())["retry-after"] == "1"


def test_keys_bring_their_limits_before_auth_is_required(
    server_factory: Any, tmp_path: Any
) -> None:
    app = server_factory(
        auth={"enabled": False, "key_db": str(tmp_path / "k.db"), "admin_token": ADMIN_TOKEN},
        rate_limit={"enabled": True, "window_s": WINDOW_S, "requests": 100},
    )
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        stub = pb_grpc.TranslationServiceStub(channel)
        key, key_id = new_key(channel, request_limit=1)
        assert translate(stub, ["the cat"], bearer(key)).translations
        with pytest.raises(grpc.RpcError) as info:
            translate(stub, ["the cat"], bearer(key))
        assert details(info.value)[1] == [key_id]
        # Without a key (or with a wrong one) the caller is anonymous, with the default budget.
        assert translate(stub, ["the cat"]).translations
        assert translate(stub, ["the cat"], bearer("dgm_x_y")).translations


@pytest.mark.parametrize(
    ("total", "per_caller", "streams", "expected"),
    [(64, 0, 0, (64, 48, 32)), (2, 0, 0, (2, 2, 2)), (100, 10, 3, (100, 10, 3))],
    ids=["default", "small", "set"],
)
def test_slot_plan_keeps_threads_to_refuse_with(
    total: int, per_caller: int, streams: int, expected: tuple[int, int, int]
) -> None:
    from dragoman.server.access import Surface
    from dragoman.server.transport import SPARE_THREADS, Capacity, slot_limits

    limits = slot_limits(total, per_caller, streams)
    assert (limits.total, limits.per_caller, limits.streams_per_caller) == expected
    capacity = Capacity.plan(limits)
    try:
        # Each class of call has its own threads: slots plus spares to refuse with.
        for surface, slots in capacity.slots.items():
            pool = capacity.pools[surface]
            assert pool._max_workers == slots.limits.total + SPARE_THREADS
        assert capacity.slots[Surface.TRANSLATION].limits == limits
    finally:
        capacity.shutdown()


def test_every_translation_rpc_pays_a_request(server_factory: Any) -> None:
    app = server_factory(rate_limit={"enabled": True, "window_s": WINDOW_S, "requests": 3})
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        stub = pb_grpc.TranslationServiceStub(channel)
        stub.ListModels(pb.ListModelsRequest(), timeout=10)
        stub.ListLanguages(pb.ListLanguagesRequest(), timeout=10)
        stub.DetectLanguage(pb.DetectLanguageRequest(contents=["the cat"]), timeout=10)
        with pytest.raises(grpc.RpcError) as info:
            stub.ListModels(pb.ListModelsRequest(), timeout=10)
        assert info.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "rate limit of 3 requests" in info.value.details()
        health = health_pb2_grpc.HealthStub(channel)
        for _ in range(5):  # probes are never charged
            health.Check(health_pb2.HealthCheckRequest(), timeout=10)


def test_detect_language_pays_its_characters(server_factory: Any) -> None:
    app = server_factory(rate_limit={"enabled": True, "window_s": WINDOW_S, "characters": 1000})
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        stub = pb_grpc.TranslationServiceStub(channel)
        request = pb.DetectLanguageRequest(contents=["the cat sees the dog. " * 70])
        with pytest.raises(grpc.RpcError) as info:
            stub.DetectLanguage(request, timeout=10)
    assert info.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "needs 1,540 characters but the limit is 1,000" in info.value.details()


def test_work_prices_beams_alternatives_and_output_budget(server_factory: Any) -> None:
    app = server_factory(rate_limit={"enabled": True, "window_s": WINDOW_S, "work": 100_000})
    texts = ["the cat"] * 64
    costly = pb.TranslationOptions(beam_size=16, num_alternatives=8, max_output_tokens=1024)
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        stub = pb_grpc.TranslationServiceStub(channel)
        request = pb.TranslateTextRequest(
            contents=texts, target_language_code="fra_Latn", options=costly
        )
        with pytest.raises(grpc.RpcError) as info:
            stub.TranslateText(request, timeout=30)
        error: Any = info.value
        # 64 texts x 1,024 tokens x 16 hypotheses: more than a whole window's budget.
        assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "needs 1,048,576 work units" in error.details()
        assert "lower beam_size, num_alternatives or max_output_tokens" in error.details()
        assert details(error)[0] is None, "no retry can help"
        # The same texts, greedy with the default output budget: 64 x 3 tokens.
        greedy = pb.TranslationOptions(quality=pb.QUALITY_FAST)
        request = pb.TranslateTextRequest(
            contents=texts, target_language_code="fra_Latn", options=greedy
        )
        assert len(stub.TranslateText(request, timeout=60).translations) == 64
