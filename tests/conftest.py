"""Shared fixtures: the shipped demo model, tiny real CTranslate2 models, an engine.

The tiny models are real M2M100-architecture models with random weights and a real
sentencepiece tokenizer, converted by CTranslate2's own converter: one per family
convention (NLLB `eng_Latn` tokens, M2M100 `__en__` tokens). Their translations are
meaningless but deterministic; tests that check translation quality use the demo model.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

REPO = Path(__file__).resolve().parents[1]
# DRAGOMAN_TEST_DEMO_MODEL points the demo tests at another build of the demo model.
DEMO_MODEL_DIR = Path(
    os.environ.get("DRAGOMAN_TEST_DEMO_MODEL", REPO / "dragoman" / "models" / "demo")
)

TINY_LANGUAGES = {
    "nllb": ["eng_Latn", "fra_Latn", "deu_Latn", "rus_Cyrl", "zho_Hans", "zho_Hant"],
    "m2m100": ["__en__", "__fr__", "__de__", "__ru__", "__zh__"],
}
# fmt: off
_WORDS = [
    "the", "a", "cat", "dog", "house", "river", "light", "small", "big", "red", "green", "blue",
    "walks", "sees", "eats", "quickly", "slowly", "today", "tomorrow", "under", "over", "near",
    "my", "your", "their", "friend", "garden", "tree", "mountain", "city", "road", "book",
    "reads", "writes", "sings", "morning", "evening", "night", "door",
]
# fmt: on


def _corpus(rng: random.Random, lines: int = 400) -> list[str]:
    out = []
    for _ in range(lines):
        words = rng.choices(_WORDS, k=rng.randint(3, 12))
        out.append(" ".join(words).capitalize() + rng.choice([".", "!", "?"]))
    return [*out, "Привет мир.", "你好世界。", "Éléphant à l'école."]


class _VocabTokenizer:
    """Just what CTranslate2's M2M100 loader reads from a HF tokenizer."""

    bos_token, pad_token, eos_token, unk_token = "<s>", "<pad>", "</s>", "<unk>"
    unk_token_id = 3

    def __init__(self, vocabulary: list[str]) -> None:
        self._vocabulary = vocabulary
        self.special_tokens_map: dict[str, list[str]] = {}

    def get_vocab(self) -> dict[str, int]:
        return {token: i for i, token in enumerate(self._vocabulary)}

    def convert_ids_to_tokens(self, index: int) -> str:
        return self._vocabulary[index]


def build_tiny_model(output: Path, family: str, *, manifest: bool = False, seed: int = 0) -> Path:
    """Builds a tiny random-weight CTranslate2 model directory at `output`."""
    import ctranslate2
    import sentencepiece
    import torch
    import transformers

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    work = output.parent / f"{output.name}-work"
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus.txt"
    corpus.write_text("\n".join(_corpus(random.Random(seed))) + "\n", encoding="utf-8")
    sentencepiece.SentencePieceTrainer.Train(
        input=str(corpus), model_prefix=str(work / "spm"), vocab_size=200, model_type="bpe",
        bos_id=0, pad_id=1, eos_id=2, unk_id=3, character_coverage=1.0, num_threads=1,
        minloglevel=2,
    )  # fmt: skip
    processor = sentencepiece.SentencePieceProcessor(model_file=str(work / "spm.model"))
    vocabulary = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    vocabulary += TINY_LANGUAGES[family]
    config = transformers.M2M100Config(
        vocab_size=len(vocabulary), d_model=32, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64,
        decoder_ffn_dim=64, max_position_embeddings=1100, pad_token_id=1, bos_token_id=0,
        eos_token_id=2, decoder_start_token_id=2, scale_embedding=True,
    )  # fmt: skip
    transformers.M2M100ForConditionalGeneration(config).save_pretrained(work / "hf")

    class Converter(ctranslate2.converters.TransformersConverter):
        def load_tokenizer(self, tokenizer_class: object, path: str, **kwargs: object) -> object:
            return _VocabTokenizer(vocabulary)

    Converter(str(work / "hf")).convert(str(output), quantization="int8", force=True)
    shutil.copy(work / "spm.model", output / "sentencepiece.bpe.model")
    if manifest:
        codes = [t.strip("_") for t in TINY_LANGUAGES[family]]
        (output / "dragoman.json").write_text(
            json.dumps({
                "format_version": 1, "name": output.name, "family": family,
                "languages": [{"code": c, "display_name": f"Tiny {c}", "aliases": [f"x-{c}"]}
                              for c in codes],
                "tokenizer": {"type": "sentencepiece", "model": "sentencepiece.bpe.model"},
                "quantization": "int8",
            }),
            encoding="utf-8",
        )  # fmt: skip
    shutil.rmtree(work)
    return output


@pytest.fixture(scope="session")
def tiny_model_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[..., Path]:
    """Builds (once per session and arguments) a tiny model: factory(family, manifest=False)."""
    built: dict[tuple[str, bool, int], Path] = {}
    root = tmp_path_factory.mktemp("tiny-models")

    def factory(family: str, *, manifest: bool = False, seed: int = 0) -> Path:
        key = (family, manifest, seed)
        if key not in built:
            name = f"{family}-{'manifest' if manifest else 'bare'}-{seed}"
            built[key] = build_tiny_model(root / name, family, manifest=manifest, seed=seed)
        return built[key]

    return factory


@pytest.fixture(scope="session")
def tiny_nllb_dir(tiny_model_factory: Callable[..., Path]) -> Path:
    """A tiny NLLB-convention model without dragoman.json (family inferred)."""
    return tiny_model_factory("nllb")


@pytest.fixture(scope="session")
def tiny_m2m100_dir(tiny_model_factory: Callable[..., Path]) -> Path:
    """A tiny M2M100-convention model without dragoman.json (family inferred)."""
    return tiny_model_factory("m2m100")


@pytest.fixture(scope="session")
def demo_model_dir() -> Path:
    """The shipped demo model; tests needing it are skipped until it exists."""
    if not (DEMO_MODEL_DIR / "model.bin").is_file():
        pytest.skip("the demo model (dragoman/models/demo) is not built yet")
    return DEMO_MODEL_DIR


@pytest.fixture(scope="module")
def demo_engine(demo_model_dir: Path) -> Iterator[object]:
    """A loaded, warmed TranslationEngine serving the demo model as `demo`."""
    from dragoman.engine.service import BatchingConfig, ModelSpec, TranslationEngine

    engine = TranslationEngine(
        [ModelSpec("demo", str(demo_model_dir), device="cpu", intra_threads=1)],
        batching=BatchingConfig(max_wait_ms=20),
    )
    engine.load()
    engine.warmup()
    yield engine
    engine.shutdown(timeout=10)


@pytest.fixture(scope="module")
def channel(app: Any) -> Iterator[grpc.Channel]:
    """An insecure channel to the `app` fixture of the directory's conftest."""
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as chan:
        yield chan


@pytest.fixture(scope="module")
def stub(channel: grpc.Channel) -> Any:
    """A TranslationService stub on `channel`."""
    from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc

    return pb_grpc.TranslationServiceStub(channel)


@pytest.fixture(scope="session")
def engine(tiny_nllb_dir: Path, tiny_m2m100_dir: Path) -> Iterator[object]:
    """A loaded TranslationEngine with two tiny models, `nllb` (default) and `m2m100`."""
    from dragoman.engine.service import ModelSpec, TranslationEngine

    engine = TranslationEngine(
        [
            ModelSpec("nllb", str(tiny_nllb_dir), device="cpu", intra_threads=1),
            ModelSpec("m2m100", str(tiny_m2m100_dir), device="cpu", intra_threads=1),
        ]
    )
    engine.load()
    yield engine
    engine.shutdown(timeout=5)


class RedisProcess:
    """A real redis-server on a free loopback port, which tests may stop and restart.

    With `password`, it requires AUTH (`requirepass`); with `tls` (certificate and key
    files, the certificate also its own CA), it speaks TLS only. `url` reaches it.
    """

    def __init__(
        self, workdir: Path, password: str = "", tls: tuple[Path, Path] | None = None
    ) -> None:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.workdir = workdir
        self.password = password
        self.tls = tls
        auth = f":{password}@" if password else ""
        if tls is None:
            self.url = f"redis://{auth}127.0.0.1:{self.port}/0"
        else:
            self.url = (
                f"rediss://{auth}127.0.0.1:{self.port}/0"
                f"?ssl_cert_reqs=required&ssl_ca_certs={tls[0]}"
            )
        self._process: Any = None

    def start(self) -> None:
        """Starts the server (no persistence, 64 MB LRU-bounded) and waits for PING."""
        import subprocess
        import time

        import redis

        listen = ["--port", str(self.port)]
        if self.tls is not None:
            cert, key = self.tls
            listen = ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file", str(cert),
                      "--tls-key-file", str(key), "--tls-ca-cert-file", str(cert),
                      "--tls-auth-clients", "no"]  # fmt: skip
        if self.password:
            listen += ["--requirepass", self.password]
        self._process = subprocess.Popen(
            ["redis-server", *listen, "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir), "--maxmemory", "64mb",
             "--maxmemory-policy", "allkeys-lru"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        for _ in range(200):
            try:
                if client.ping():
                    return
            except redis.exceptions.ConnectionError:
                time.sleep(0.025)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        """Kills the server (SIGKILL: a crash, not a clean shutdown)."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisProcess]:
    """A running redis-server for one test (skipped where redis-server is missing)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (make system-deps)")
    server = RedisProcess(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_factory(tmp_path: Path) -> Iterator[Callable[..., RedisProcess]]:
    """Starts redis-servers for one test: factory(password="", tls=None) -> RedisProcess."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (make system-deps)")
    started: list[RedisProcess] = []

    def start(password: str = "", tls: tuple[Path, Path] | None = None) -> RedisProcess:
        server = RedisProcess(tmp_path, password, tls)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


#: Hang guard for tests marked `slow` (they train models inside fixtures): the 300 s default
#: fits an idle 2-core machine, not one where other jobs take most of the CPU.
SLOW_TIMEOUT_S = 1200


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Gives `slow` tests the longer hang guard unless they set their own timeout."""
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT_S))


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own CA) and its key, as PEM files."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    address = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([address]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = directory / "server.crt", directory / "server.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="session")
def self_signed() -> Callable[[Path], tuple[Path, Path]]:
    """self_signed(directory) -> (certificate, key): PEM files for 127.0.0.1."""
    return _self_signed


def _wait_until(condition: Callable[[], bool]) -> None:
    import time

    for _ in range(3000):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("condition never became true")


@pytest.fixture(scope="session")
def wait_until() -> Callable[[Callable[[], bool]], None]:
    """wait_until(condition): a bounded wait (30 s) for another thread to reach a state;
    not a timing assertion."""
    return _wait_until
