"""Fixtures for client tests: a real dragoman server on 127.0.0.1:0 with a real model.

The server serves the shipped demo model when it is built, else the tiny NLLB-convention
model from tests/conftest.py (random weights: meaningless but deterministic output).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO_DIR = REPO / "dragoman" / "models" / "demo"


@dataclass(frozen=True)
class ModelUnderTest:
    """The model the live servers serve, and a language pair it has."""

    name: str
    path: Path
    source: str
    target: str


@pytest.fixture(scope="session")
def served_model(request: pytest.FixtureRequest) -> ModelUnderTest:
    """The demo model if built, otherwise the tiny NLLB-convention model."""
    if (DEMO_DIR / "model.bin").is_file():
        return ModelUnderTest("demo", DEMO_DIR, "eng_Latn", "qaa_Latn")
    path = request.getfixturevalue("tiny_nllb_dir")
    return ModelUnderTest("nllb", Path(path), "eng_Latn", "fra_Latn")


def server_settings(model: ModelUnderTest, **overrides: Any) -> Any:
    """Settings of a small test server for `model` on a free loopback port."""
    from dragoman.server.settings import Settings

    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "models": [
            {"name": model.name, "path": str(model.path), "device": "cpu", "intra_threads": 1}
        ],
        "workers": 32,
        "grace_period_s": 2.0,
        "log_format": "text",
        "log_level": "WARNING",
        "http": {"enabled": False},
    }
    return Settings(**{**values, **overrides})


@pytest.fixture(scope="module")
def live_server(served_model: ModelUnderTest) -> Iterator[str]:
    """A started server; yields its address `127.0.0.1:PORT`."""
    from dragoman.server.app import build_app

    app = build_app(server_settings(served_model))
    app.start()
    app.load()
    yield f"127.0.0.1:{app.port}"
    app.stop(grace=0)


@dataclass(frozen=True)
class Pki:
    """PEM files of a test CA, a server certificate (localhost) and a client certificate."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _issue(
    name: str, issuer: Any, issuer_key: Any, *, ca: bool = False, san: bool = False
) -> tuple[Any, Any]:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return key, builder.sign(issuer_key or key, hashes.SHA256())


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A throw-away CA with a server and a client certificate."""
    from cryptography.hazmat.primitives import serialization

    root = tmp_path_factory.mktemp("pki")
    ca_key, ca_cert = _issue("dragoman test CA", None, None, ca=True)
    server_key, server_cert = _issue("localhost", ca_cert.subject, ca_key, san=True)
    client_key, client_cert = _issue("client", ca_cert.subject, ca_key)

    def write(name: str, data: bytes) -> Path:
        (root / name).write_bytes(data)
        return root / name

    def pem_key(key: Any) -> bytes:
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    pem = serialization.Encoding.PEM
    return Pki(
        ca=write("ca.pem", ca_cert.public_bytes(pem)),
        server_cert=write("server.pem", server_cert.public_bytes(pem)),
        server_key=write("server.key", pem_key(server_key)),
        client_cert=write("client.pem", client_cert.public_bytes(pem)),
        client_key=write("client.key", pem_key(client_key)),
    )


@pytest.fixture(scope="module")
def start_server(served_model: ModelUnderTest) -> Iterator[Any]:
    """start(**settings_overrides) -> address: more servers, stopped at the module's end."""
    from dragoman.server.app import build_app

    apps: list[Any] = []

    def start(**overrides: Any) -> str:
        app = build_app(server_settings(served_model, **overrides))
        apps.append(app)
        app.start()
        app.load()
        return f"127.0.0.1:{app.port}"

    yield start
    for app in apps:
        app.stop(grace=0)


@pytest.fixture(scope="session")
def settings_for(served_model: ModelUnderTest) -> Any:
    """settings_for(**overrides) -> server Settings for the served model."""

    def build(**overrides: Any) -> Any:
        return server_settings(served_model, **overrides)

    return build


@pytest.fixture
def two_apps(settings_for: Any) -> Iterator[list[Any]]:
    """Two started, loaded servers (`App`s) for the served model; stopped after the test."""
    from dragoman.server.app import build_app

    apps = []
    for _ in range(2):
        app = build_app(settings_for())
        app.start()
        app.load()
        apps.append(app)
    yield apps
    for app in apps:
        app.stop(grace=0)
