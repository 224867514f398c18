"""What the access guardrails cost per call: auth off vs API keys vs keys + rate limits + TLS.

    .venv/bin/python bench/auth_overhead.py [--model DIR|demo] [--calls 500]

Starts one real server per configuration on 127.0.0.1, sends sequential calls from
one channel (ListModels: no engine work; TranslateText: one short text) and prints the
median and p99 latency of each, and the ratio to the unguarded server.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
from dragoman.server.app import build_app
from dragoman.server.settings import Settings
from dragoman.server.tls import channel_credentials

from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc

ADMIN_TOKEN = "bench-admin-token"


def make_certificates(directory: Path) -> tuple[str, str, str]:
    """A self-signed certificate for localhost/127.0.0.1: (cert, key, ca) paths."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        ), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = directory / "server.crt", directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path), str(cert_path)


def configurations(work: Path) -> dict[str, dict[str, Any]]:
    """Name -> settings overrides."""
    auth = {"enabled": True, "key_db": str(work / "keys.db"), "admin_token": ADMIN_TOKEN}
    limits = {"enabled": True, "requests": 10**9, "characters": 10**12}
    cert, key, _ = make_certificates(work)
    return {
        "open": {},
        "api key": {"auth": auth},
        "api key + rate limit": {"auth": auth, "rate_limit": limits},
        "api key + rate limit + TLS": {
            "auth": auth,
            "rate_limit": limits,
            "tls": {"cert": cert, "key": key},
        },
    }


def measure(call: Callable[[], Any], calls: int) -> tuple[float, float]:
    """(median, p99) latency in milliseconds after 20 warm-up calls."""
    for _ in range(20):
        call()
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def bench_one(name: str, overrides: dict[str, Any], model: str, calls: int, ca: str) -> dict:
    settings = Settings(
        host="127.0.0.1", port=0, models=[{"path": model, "device": "cpu", "intra_threads": 1}],
        log_format="text", log_level="WARNING", http={"enabled": False}, **overrides,
    )  # fmt: skip
    app = build_app(settings)
    app.start()
    app.load()
    try:
        metadata: tuple[tuple[str, str], ...] = ()
        if "auth" in overrides:
            _, key = app.security.keystore.create("bench")  # type: ignore[union-attr]
            metadata = (("authorization", f"Bearer {key}"),)
        target = f"localhost:{app.port}"
        channel = (
            grpc.secure_channel(target, channel_credentials(ca))
            if "tls" in overrides
            else grpc.insecure_channel(target)
        )
        with channel:
            stub = pb_grpc.TranslationServiceStub(channel)
            language = stub.ListModels(pb.ListModelsRequest(), metadata=metadata).models[0]
            codes = list(language.language_codes)
            request = pb.TranslateTextRequest(
                contents=["the cat sees the dog"],
                source_language_code=codes[0],
                target_language_code=codes[1],
            )
            return {
                "name": name,
                "list": measure(
                    lambda: stub.ListModels(pb.ListModelsRequest(), metadata=metadata), calls
                ),
                "translate": measure(lambda: stub.TranslateText(request, metadata=metadata), calls),
            }
    finally:
        app.stop(grace=1.0)


def main() -> None:
    """Runs every configuration and prints a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="demo", help="model directory (default: demo)")
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        configs = configurations(work)
        ca = str(work / "server.crt")
        rows = [bench_one(n, o, args.model, args.calls, ca) for n, o in configs.items()]
    base = rows[0]
    print(f"{'configuration':<28} {'ListModels p50/p99 ms':>22} {'x':>6} "
          f"{'TranslateText p50/p99 ms':>25} {'x':>6}")  # fmt: skip
    for row in rows:
        lst, tr = row["list"], row["translate"]
        print(
            f"{row['name']:<28} {lst[0]:>10.3f} /{lst[1]:>9.3f} {lst[0] / base['list'][0]:>6.2f} "
            f"{tr[0]:>13.3f} /{tr[1]:>9.3f} {tr[0] / base['translate'][0]:>6.2f}"
        )


if __name__ == "__main__":
    main()
