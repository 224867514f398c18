"""Who is calling: API keys and the admin token from `authorization: Bearer <token>`.

Health checking and reflection stay open. AdminService needs the admin token (an API
key there is PERMISSION_DENIED). Everything else needs an active API key when auth is
on; with auth off, callers are named by their peer address (for rate limits).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import grpc
from cachetools import LRUCache
from dragoman.server.keystore import KeyStore
from dragoman.server.ratelimit import Decision, Limits, RateLimited, TokenBucket
from pydantic import BaseModel, Field, SecretStr, field_validator

logger = logging.getLogger(__name__)

#: Services anyone may call (load balancers, grpcurl).
OPEN_SERVICES = frozenset(
    {
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
        "grpc.reflection.v1.ServerReflection",
    }
)
#: Services that need the admin token.
ADMIN_SERVICES = frozenset({"dragoman.admin.v1.AdminService"})

_BEARER = "bearer "
#: Shortest admin token accepted: 32 characters (`openssl rand -hex 32` gives 64).
MIN_ADMIN_TOKEN_CHARS = 32


class AuthSettings(BaseModel):
    """API keys and the admin token.

    Attributes:
        enabled: Require an API key (`authorization: Bearer <key>`) on translation
            RPCs. Health and reflection stay open either way.
        key_db: SQLite file holding the keys (hashed).
        admin_token: Secret that unlocks AdminService, at least 32 characters
            (`openssl rand -hex 32`); unset = no admin service.
        max_failures: Wrong API keys or admin tokens one client address may send per
            `failure_window_s`; beyond, every call from it that carries a credential
            is refused (RESOURCE_EXHAUSTED) until its budget refills.
        failure_window_s: The window `max_failures` counts over, in seconds.
    """

    enabled: bool = False
    key_db: str = "dragoman-keys.sqlite3"
    admin_token: SecretStr | None = None
    max_failures: int = Field(default=10, ge=1)
    failure_window_s: float = Field(default=60.0, gt=0)

    @field_validator("admin_token")
    @classmethod
    def _long_enough(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and len(token.get_secret_value()) < MIN_ADMIN_TOKEN_CHARS:
            raise ValueError(
                f"the admin token has {len(token.get_secret_value())} characters; use at "
                f"least {MIN_ADMIN_TOKEN_CHARS} (e.g. `openssl rand -hex 32`)"
            )
        return token


class Role(enum.Enum):
    """What a principal may do."""

    ANONYMOUS = "anonymous"  # auth off, or an open service
    USER = "user"  # an active API key
    ADMIN = "admin"  # the admin token


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one RPC.

    Attributes:
        caller: Stable name for rate limits and logs: the key id, `admin`, or
            `peer:<address>`.
        role: What it may do.
        limits: Its own rate-limit budgets (API keys may carry them).
    """

    caller: str
    role: Role
    limits: Limits | None = None


class AuthError(Exception):
    """The call is refused; `code` is UNAUTHENTICATED or PERMISSION_DENIED.

    `guess` is True when the call carried a credential that is wrong (an unknown or
    revoked key, a wrong admin token): such failures count towards `FailureThrottle`.
    """

    def __init__(self, code: grpc.StatusCode, message: str, guess: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.guess = guess


def service_of(method: str) -> str:
    """`/pkg.Service/Method` -> `pkg.Service`."""
    return method.lstrip("/").partition("/")[0]


def bearer_token(metadata: Iterable[tuple[str, str | bytes]] | None) -> str | None:
    """The token of the `authorization: Bearer <token>` metadata entry, if any."""
    for key, value in metadata or ():
        if key.lower() != "authorization":
            continue
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        if text[: len(_BEARER)].lower() == _BEARER:
            return text[len(_BEARER) :].strip()
        return None
    return None


def peer_host(peer: str) -> str:
    """`ipv4:127.0.0.1:5000` -> `ipv4:127.0.0.1` (the port changes per connection)."""
    head, sep, _port = peer.rpartition(":")
    return head if sep and head.count(":") >= 1 else peer


class Authenticator:
    """Decides who calls, and whether they may call this method.

    Args:
        keystore: Where API keys live; None when no keys are configured.
        admin_token: The admin token; None disables every admin RPC.
        require_keys: Refuse translation RPCs without an active API key.
    """

    def __init__(
        self, keystore: KeyStore | None, admin_token: str | None, require_keys: bool
    ) -> None:
        if require_keys and keystore is None:
            raise ValueError("auth needs a key store: set auth.key_db")
        self._keystore = keystore
        # Compare digests, not the tokens: equal lengths, constant time.
        self._admin_digest = _digest(admin_token) if admin_token else None
        self._require_keys = require_keys

    @classmethod
    def from_settings(cls, settings: AuthSettings, keystore: KeyStore | None) -> Authenticator:
        """Builds an authenticator from `AuthSettings`."""
        token = settings.admin_token.get_secret_value() if settings.admin_token else None
        return cls(keystore, token, settings.enabled)

    def authenticate(
        self, method: str, metadata: Iterable[tuple[str, str | bytes]] | None, peer: str
    ) -> Principal:
        """Returns the caller of `method`.

        Raises:
            AuthError: UNAUTHENTICATED (no, unknown or revoked credentials) or
                PERMISSION_DENIED (an API key on an admin RPC).
        """
        service = service_of(method)
        if service in OPEN_SERVICES:
            return Principal(f"peer:{peer_host(peer)}", Role.ANONYMOUS)
        token = bearer_token(metadata)
        if service in ADMIN_SERVICES:
            return self._admin(token)
        if token is not None and self._is_admin(token):
            return Principal("admin", Role.ADMIN)
        if not self._require_keys:
            return self._optional_user(token, peer)
        if token is None:
            raise AuthError(
                grpc.StatusCode.UNAUTHENTICATED,
                "this server needs an API key: send metadata `authorization: Bearer <key>`",
            )
        return self._user(token)

    def _is_admin(self, token: str) -> bool:
        return self._admin_digest is not None and hmac.compare_digest(
            self._admin_digest, _digest(token)
        )

    def _admin(self, token: str | None) -> Principal:
        if self._admin_digest is None:
            raise AuthError(
                grpc.StatusCode.PERMISSION_DENIED,
                "the admin service is disabled: start the server with an admin token "
                "(DRAGOMAN_AUTH__ADMIN_TOKEN)",
            )
        if token is None:
            raise AuthError(
                grpc.StatusCode.UNAUTHENTICATED,
                "admin RPCs need metadata `authorization: Bearer <admin token>`",
            )
        if self._is_admin(token):
            return Principal("admin", Role.ADMIN)
        record = self._keystore.verify(token) if self._keystore else None
        if record is not None and record.active:
            raise AuthError(
                grpc.StatusCode.PERMISSION_DENIED,
                f"API key {record.key_id} may not call admin RPCs: use the admin token",
            )
        raise AuthError(grpc.StatusCode.UNAUTHENTICATED, "wrong admin token", guess=True)

    def _optional_user(self, token: str | None, peer: str) -> Principal:
        # Keys are optional: a valid one still brings its own rate limits (so keys can
        # be rolled out before auth is switched on); anything else is anonymous.
        if token is not None and self._keystore is not None:
            record = self._keystore.verify(token)
            if record is not None and record.active:
                limits = Limits(record.request_limit, record.character_limit)
                return Principal(record.key_id, Role.USER, limits)
        return Principal(f"peer:{peer_host(peer)}", Role.ANONYMOUS)

    def _user(self, token: str) -> Principal:
        record = self._keystore.verify(token) if self._keystore else None
        if record is None:
            raise AuthError(
                grpc.StatusCode.UNAUTHENTICATED,
                "unknown API key: check the `authorization: Bearer <key>` metadata",
                guess=True,
            )
        if not record.active:
            raise AuthError(
                grpc.StatusCode.UNAUTHENTICATED,
                f"API key {record.key_id} is revoked: ask an administrator to reactivate it",
                guess=True,
            )
        limits = Limits(record.request_limit, record.character_limit)
        return Principal(record.key_id, Role.USER, limits)


class FailureThrottle:
    """Per client address, a budget of wrong credentials; spent, credentials are refused.

    Each wrong API key or admin token takes one token from the address's bucket of
    `max_failures`, refilled over `window_s`. While the bucket is empty every call from
    that address that carries a credential is refused before the credential is even
    checked, so that guessing costs the guesser time and the server nothing.

    Args:
        max_failures: Wrong credentials per window and address.
        window_s: The window.
        max_addresses: Addresses remembered (least recently seen forgotten first).
        clock: Monotonic seconds.
    """

    def __init__(
        self,
        max_failures: int,
        window_s: float,
        max_addresses: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max, self._window, self._clock = max_failures, window_s, clock
        self._lock = threading.Lock()
        self._buckets: LRUCache[str, TokenBucket] = LRUCache(maxsize=max_addresses)

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> FailureThrottle:
        """The throttle `AuthSettings` describe."""
        return cls(settings.max_failures, settings.failure_window_s)

    def check(self, address: str) -> None:
        """Raises RateLimited while `address` has no failures left."""
        with self._lock:
            bucket = self._buckets.get(address)
            wait = bucket.wait_time(1, self._clock()) if bucket is not None else 0.0
        if wait > 0:
            message = (
                f"too many wrong API keys or admin tokens from your address ({self._max} per "
                f"{self._window:g} s): check your credential, then retry in {wait:.0f} s"
            )
            raise RateLimited(Decision(False, "auth_failures", wait, message), address)

    def failed(self, address: str) -> None:
        """Counts one wrong credential from `address`."""
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(address)
            if bucket is None:
                bucket = self._buckets[address] = TokenBucket(self._max, self._window, now)
            if bucket.wait_time(1, now) == 0:
                bucket.take(1, now)


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()
