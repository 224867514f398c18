"""KeyStore: hashed storage, verification, revocation, persistence."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

import pytest
from dragoman.server.keystore import KeyNotFound, KeyState, KeyStore, split_key


@pytest.fixture()
def store(tmp_path: Path) -> KeyStore:
    keys = KeyStore(tmp_path / "keys.sqlite3")
    yield keys
    keys.close()


def test_create_returns_a_key_that_verifies(store: KeyStore) -> None:
    record, key = store.create("ci", request_limit=5, character_limit=100)
    assert key.startswith(f"dgm_{record.key_id}_")
    verified = store.verify(key)
    assert verified == record
    assert verified is not None and verified.active
    assert (verified.request_limit, verified.character_limit) == (5, 100)


def test_database_holds_only_a_hash(tmp_path: Path, store: KeyStore) -> None:
    _, key = store.create("ci")
    secret = split_key(key)[1]  # type: ignore[index]
    raw = (tmp_path / "keys.sqlite3").read_bytes()
    wal = tmp_path / "keys.sqlite3-wal"
    raw += wal.read_bytes() if wal.exists() else b""
    assert secret.encode() not in raw
    assert key.encode() not in raw
    db = sqlite3.connect(tmp_path / "keys.sqlite3")
    (stored,) = db.execute("SELECT key_sha256 FROM api_keys").fetchone()
    db.close()
    assert bytes(stored) == hashlib.sha256(key.encode()).digest()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),  # wrong secret
        lambda key: "dgm_0000000000000000_" + key.rsplit("_", 1)[1],  # unknown key id
        lambda key: key.replace("dgm_", "xyz_", 1),  # wrong prefix
        lambda key: "",
        lambda key: "dgm_",
        lambda key: "dgm__",
        lambda key: key + "\x00",
    ],
    ids=["wrong-secret", "unknown-id", "bad-prefix", "empty", "prefix-only", "empty-parts", "nul"],
)
def test_wrong_keys_do_not_verify(store: KeyStore, mangle) -> None:  # type: ignore[no-untyped-def]
    _, key = store.create()
    assert store.verify(mangle(key)) is None


def test_revoke_and_reactivate(store: KeyStore) -> None:
    record, key = store.create("x")
    revoked = store.revoke(record.key_id)
    assert revoked.state is KeyState.REVOKED and revoked.revoke_time is not None
    assert store.verify(key) == revoked  # still recognised, so the caller can say "revoked"
    assert [r.key_id for r in store.list()] == []
    assert [r.key_id for r in store.list(show_revoked=True)] == [record.key_id]
    active = store.reactivate(record.key_id)
    assert active.active
    assert store.verify(key) == active


def test_unknown_key_id_raises(store: KeyStore) -> None:
    with pytest.raises(KeyNotFound, match="nope"):
        store.revoke("nope")
    with pytest.raises(KeyNotFound):
        store.reactivate("nope")


def test_negative_limits_are_refused(store: KeyStore) -> None:
    with pytest.raises(ValueError, match=">= 0"):
        store.create(request_limit=-1)


def test_keys_survive_reopening(tmp_path: Path) -> None:
    first = KeyStore(tmp_path / "sub" / "keys.sqlite3")
    record, key = first.create("persist")
    first.close()
    second = KeyStore(tmp_path / "sub" / "keys.sqlite3")
    try:
        assert second.verify(key) == record
    finally:
        second.close()


def test_concurrent_use_from_threads(store: KeyStore) -> None:
    keys = [store.create(f"k{i}")[1] for i in range(4)]
    failures: list[str] = []

    def worker(key: str) -> None:
        for _ in range(50):
            if store.verify(key) is None:
                failures.append(key)

    threads = [threading.Thread(target=worker, args=(k,)) for k in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(store.list()) == 4


def test_database_file_is_private(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "private.sqlite3")
    try:
        assert (tmp_path / "private.sqlite3").stat().st_mode & 0o777 == 0o600
    finally:
        store.close()


def test_unusable_path_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(OSError, match="API key database"):
        KeyStore(blocker / "keys.sqlite3")
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is not a SQLite database" * 200)
    with pytest.raises(OSError, match="API key database"):
        KeyStore(garbage)
