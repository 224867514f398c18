"""API keys stored hashed in SQLite.

A key reads `dgm_<key_id>_<secret>`. The key id is public (it names the key in
listings and logs); the secret is 256 random bits. Only SHA-256 of the whole key is
stored, so the database never holds a usable key.

Why SHA-256 and not scrypt/PBKDF2: slow hashes protect low-entropy passwords against
offline guessing. A 256-bit random secret cannot be guessed, so a slow hash would only
add its cost (tens of milliseconds) to every authenticated call. Comparison is
constant-time (`hmac.compare_digest`), and a lookup of an unknown key id still hashes
and compares, so timing tells nothing about the secret.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import logging
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

KEY_PREFIX = "dgm_"
_KEY_ID_BYTES = 8
_SECRET_BYTES = 32
_DUMMY_DIGEST = hashlib.sha256(b"dragoman: no such key").digest()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL DEFAULT '',
    key_sha256 BLOB NOT NULL,
    state TEXT NOT NULL,
    create_time REAL NOT NULL,
    revoke_time REAL,
    request_limit INTEGER NOT NULL DEFAULT 0,
    character_limit INTEGER NOT NULL DEFAULT 0
)
"""


class KeyState(enum.Enum):
    """Whether a key is accepted."""

    ACTIVE = "active"
    REVOKED = "revoked"


class KeyNotFound(LookupError):
    """No key has the given key id."""


@dataclass(frozen=True)
class ApiKeyRecord:
    """A stored API key, without its secret.

    Attributes:
        key_id: Public identifier.
        display_name: Free-form label.
        state: Active or revoked.
        create_time: Unix time of creation.
        revoke_time: Unix time of the last revocation, None if never revoked.
        request_limit: Requests per rate-limit window; 0 = the server's default.
        character_limit: Characters per rate-limit window; 0 = the server's default.
    """

    key_id: str
    display_name: str
    state: KeyState
    create_time: float
    revoke_time: float | None
    request_limit: int = 0
    character_limit: int = 0

    @property
    def active(self) -> bool:
        """True when requests with the key are served."""
        return self.state is KeyState.ACTIVE


def split_key(key: str) -> tuple[str, str] | None:
    """Returns (key_id, secret) of a well-formed key, None for anything else."""
    if not key.startswith(KEY_PREFIX):
        return None
    key_id, sep, secret = key[len(KEY_PREFIX) :].partition("_")
    if not sep or not key_id or not secret:
        return None
    return key_id, secret


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


class KeyStore:
    """Hashed API keys in one SQLite database, safe to share between threads.

    Args:
        path: Database file; created with its table when missing. `:memory:` keeps
            keys in memory (tests).
        clock: Unix-time source.
    """

    def __init__(self, path: str | Path, clock: Callable[[], float] = time.time) -> None:
        self._path = str(path)
        self._clock = clock
        self._lock = threading.Lock()
        try:
            self._db = self._open()
        except (OSError, sqlite3.Error) as error:
            raise OSError(f"cannot open the API key database {self._path!r}: {error}") from error

    def _open(self) -> sqlite3.Connection:
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
            # Hashes only, but still nobody else's business: owner read/write.
            os.close(os.open(self._path, os.O_CREAT | os.O_RDWR, 0o600))
        # One connection guarded by a lock: SQLite serialises writers anyway, and
        # reads by primary key take microseconds.
        db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        if self._path != ":memory:":
            db.execute("PRAGMA journal_mode=WAL")
        db.execute(_SCHEMA)
        return db

    def close(self) -> None:
        """Closes the database."""
        with self._lock:
            self._db.close()

    def create(
        self, display_name: str = "", request_limit: int = 0, character_limit: int = 0
    ) -> tuple[ApiKeyRecord, str]:
        """Creates an active key.

        Returns:
            The record and the full key (`dgm_<key_id>_<secret>`), which is not
            stored anywhere and cannot be shown again.

        Raises:
            ValueError: A limit is negative.
        """
        if request_limit < 0 or character_limit < 0:
            raise ValueError("request_limit and character_limit must be >= 0 (0 = server default)")
        key_id = secrets.token_hex(_KEY_ID_BYTES)
        key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(_SECRET_BYTES)}"
        now = self._clock()
        with self._lock:
            self._db.execute(
                "INSERT INTO api_keys (key_id, display_name, key_sha256, state, create_time,"
                " request_limit, character_limit) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    key_id,
                    display_name,
                    _digest(key),
                    KeyState.ACTIVE.value,
                    now,
                    request_limit,
                    character_limit,
                ),
            )
        logger.info("created API key %s (%s)", key_id, display_name)
        record = ApiKeyRecord(
            key_id, display_name, KeyState.ACTIVE, now, None, request_limit, character_limit
        )
        return record, key

    def verify(self, key: str) -> ApiKeyRecord | None:
        """Returns the record of a valid key (active or revoked), None otherwise.

        The caller decides what a revoked key means; a wrong secret and an unknown
        key id both give None, after the same hash-and-compare work.
        """
        parts = split_key(key)
        key_id = parts[0] if parts else ""
        with self._lock:
            row = self._db.execute(
                f"SELECT key_sha256, {_COLUMNS} FROM api_keys WHERE key_id = ?", (key_id,)
            ).fetchone()
        stored = bytes(row[0]) if row else _DUMMY_DIGEST
        if not hmac.compare_digest(stored, _digest(key)) or row is None:
            return None
        return _record(row[1:])

    def get(self, key_id: str) -> ApiKeyRecord:
        """Returns a key's record.

        Raises:
            KeyNotFound: No key has this id.
        """
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM api_keys WHERE key_id = ?", (key_id,)
            ).fetchone()
        if row is None:
            raise KeyNotFound(f"no API key has key_id {key_id!r}; list them with ListApiKeys")
        return _record(row)

    def list(self, show_revoked: bool = False) -> list[ApiKeyRecord]:
        """Returns keys, oldest first; revoked ones only when asked."""
        query = f"SELECT {_COLUMNS} FROM api_keys"
        if not show_revoked:
            query += f" WHERE state = '{KeyState.ACTIVE.value}'"
        with self._lock:
            rows = self._db.execute(query + " ORDER BY create_time, key_id").fetchall()
        return [_record(row) for row in rows]

    def revoke(self, key_id: str) -> ApiKeyRecord:
        """Revokes a key (idempotent).

        Raises:
            KeyNotFound: No key has this id.
        """
        self._set_state(key_id, KeyState.REVOKED, revoke_time=self._clock())
        logger.info("revoked API key %s", key_id)
        return self.get(key_id)

    def reactivate(self, key_id: str) -> ApiKeyRecord:
        """Reactivates a revoked key (idempotent); its secret is unchanged.

        Raises:
            KeyNotFound: No key has this id.
        """
        self._set_state(key_id, KeyState.ACTIVE, revoke_time=None)
        logger.info("reactivated API key %s", key_id)
        return self.get(key_id)

    def _set_state(self, key_id: str, state: KeyState, revoke_time: float | None) -> None:
        with self._lock:
            if state is KeyState.REVOKED:
                cursor = self._db.execute(
                    "UPDATE api_keys SET state = ?, revoke_time = ? WHERE key_id = ?",
                    (state.value, revoke_time, key_id),
                )
            else:
                cursor = self._db.execute(
                    "UPDATE api_keys SET state = ? WHERE key_id = ?", (state.value, key_id)
                )
        if cursor.rowcount == 0:
            raise KeyNotFound(f"no API key has key_id {key_id!r}; list them with ListApiKeys")


_COLUMNS = "key_id, display_name, state, create_time, revoke_time, request_limit, character_limit"


def _record(row: tuple) -> ApiKeyRecord:
    key_id, name, state, created, revoked, request_limit, character_limit = row
    return ApiKeyRecord(
        key_id=key_id,
        display_name=name,
        state=KeyState(state),
        create_time=created,
        revoke_time=revoked,
        request_limit=request_limit,
        character_limit=character_limit,
    )
