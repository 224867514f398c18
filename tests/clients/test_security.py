"""TLS, mutual TLS, API keys and the rate limiter's RetryInfo, with real servers."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from dragoman.clients import (
    ResourceExhausted,
    RetryPolicy,
    TlsConfig,
    TranslationClient,
    Unauthenticated,
    Unavailable,
)

Start = Callable[..., str]


def test_tls_with_the_servers_ca(start_server: Start, pki, served_model) -> None:
    address = start_server(tls={"cert": str(pki.server_cert), "key": str(pki.server_key)})
    tls = TlsConfig.from_files(ca=pki.ca)
    with TranslationClient(address.replace("127.0.0.1", "localhost"), tls=tls) as client:
        assert client.translate_text("Hello.", to=served_model.target).text
    # By IP address the certificate's name is given explicitly.
    tls = TlsConfig.from_files(ca=pki.ca, server_name="localhost")
    with TranslationClient([address, address], tls=tls) as client:
        assert client.target.startswith("ipv4:")
        assert client.translate_text("Hello.", to=served_model.target).text
    # Plaintext against a TLS port, or an untrusted CA: no connection.
    # One attempt, a generous deadline: the handshake fails, whatever the machine's load.
    once = RetryPolicy(max_attempts=1)
    for kwargs in ({}, {"tls": TlsConfig()}):
        client = TranslationClient(address, timeout=60, retry=once, **kwargs)
        with client, pytest.raises(Unavailable):
            client.translate_text("Hello.", to=served_model.target)


def test_mutual_tls(start_server: Start, pki, served_model) -> None:
    address = start_server(
        tls={"cert": str(pki.server_cert), "key": str(pki.server_key),
             "client_ca": str(pki.ca), "require_client_cert": True},
    )  # fmt: skip
    mtls = TlsConfig.from_files(pki.ca, pki.client_cert, pki.client_key, "localhost")
    with TranslationClient(address, tls=mtls) as client:
        assert client.translate_text("Hello.", to=served_model.target).text
    no_cert = TlsConfig.from_files(pki.ca, server_name="localhost")
    client = TranslationClient(address, tls=no_cert, timeout=60, retry=RetryPolicy(max_attempts=1))
    with client, pytest.raises(Unavailable):
        client.translate_text("Hello.", to=served_model.target)


def test_api_key(start_server: Start, served_model, tmp_path: Path) -> None:
    from dragoman.server.keystore import KeyStore

    db = tmp_path / "keys.sqlite3"
    store = KeyStore(db)
    _, key = store.create("client tests")
    store.close()
    address = start_server(auth={"enabled": True, "key_db": str(db)})
    with TranslationClient(address, api_key=key) as client:
        assert client.translate_text("Hello.", to=served_model.target).text
        assert client.is_serving()
    for bad in (None, "dgm_nope_nope"):
        with TranslationClient(address, api_key=bad) as client:
            with pytest.raises(Unauthenticated) as caught:
                client.translate_text("Hello.", to=served_model.target)
            assert caught.value.attempts == 1  # never retried
            assert client.is_serving()  # health stays open


def test_rate_limit_is_waited_out_with_retry_info(start_server: Start, served_model) -> None:
    address = start_server(rate_limit={"enabled": True, "window_s": 1.0, "requests": 2})
    with TranslationClient(address, timeout=20) as client:
        started = time.monotonic()
        results = [client.translate_text("Hello.", to=served_model.target) for _ in range(6)]
        elapsed = time.monotonic() - started
        assert all(r.text for r in results)
        assert client.stats.retries >= 1
    # 6 calls at 2 per second need about 2 s of waiting; jitter alone would not wait.
    assert elapsed >= 1.0
    client = TranslationClient(address, retry=RetryPolicy(max_attempts=1))
    with client, pytest.raises(ResourceExhausted, match="rate"):
        for _ in range(4):
            client.translate_text("Hello.", to=served_model.target)
    # A deadline shorter than the server's RetryInfo delay gives up at once. A window of
    # 10 minutes makes the delay minutes, so a generous deadline is still shorter.
    slow = start_server(rate_limit={"enabled": True, "window_s": 600.0, "requests": 2})
    with TranslationClient(slow, timeout=60) as client, pytest.raises(ResourceExhausted):
        for _ in range(3):
            client.translate_text("Hello.", to=served_model.target)
    assert client.stats.retries == 0


def test_async_client_waits_out_the_rate_limit(start_server: Start, served_model) -> None:
    import asyncio

    from dragoman.clients import AsyncTranslationClient

    address = start_server(rate_limit={"enabled": True, "window_s": 1.0, "requests": 2})

    async def main() -> tuple[list[str], int]:
        async with AsyncTranslationClient(address, timeout=20) as client:
            await client.wait_until_serving(timeout=10)
            texts = [
                (await client.translate_text("Hello.", to=served_model.target)).text
                for _ in range(5)
            ]
            return texts, client.stats.retries

    texts, retries = asyncio.run(main())
    assert all(texts) and retries >= 1
