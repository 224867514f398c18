"""Transport-neutral access control: who calls, and whether their budget pays.

One `AccessControl` per server serves both front ends: the gRPC edge (server/edge.py,
server/guard.py) and the HTTP front end (server/http/). Both name a call by its gRPC
method (an HTTP `POST /translate` is a TranslateText), and a caller by its API key id
or its peer host spelled as gRPC spells peers, so one caller has one budget whichever
transport it uses, and the lists of open, admin and metered methods exist once.

A call goes through three steps, each of which may refuse it:
1. `authenticate`: who calls (wrong credentials are throttled per client address);
2. `hold`: a slot for as long as the call runs (in all, per caller, streams per caller);
3. `charge`: the call's cost against the caller's rate-limit budgets, once its
   request is read (`translation_work` prices the decoding it asks for).
"""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from dragoman.server.auth import (
    ADMIN_SERVICES,
    OPEN_SERVICES,
    Authenticator,
    AuthError,
    FailureThrottle,
    Principal,
    Role,
    bearer_token,
    peer_host,
    service_of,
)
from dragoman.server.concurrency import Slots
from dragoman.server.ratelimit import ALLOWED, Decision, Limiter, RateLimited

__all__ = ["AccessControl", "RateLimited", "Surface", "surface_of", "translation_work"]

logger = logging.getLogger(__name__)

#: Called with (method, limit) for every call refused by a limit.
RejectHook = Callable[[str, str], None]

_SERVICE = "/dragoman.translation.v1.TranslationService/"
TRANSLATE_TEXT = _SERVICE + "TranslateText"
STREAM_TRANSLATE_TEXT = _SERVICE + "StreamTranslateText"
DETECT_LANGUAGE = _SERVICE + "DetectLanguage"
LIST_LANGUAGES = _SERVICE + "ListLanguages"
LIST_MODELS = _SERVICE + "ListModels"
TRANSLATE_DOCUMENT = _SERVICE + "TranslateDocument"
STREAM_TRANSLATE_DOCUMENT = _SERVICE + "StreamTranslateDocument"

#: Methods whose calls the rate limits charge: every TranslationService method pays a
#: request, and input characters and decoding work where it has them.
METERED_METHODS: frozenset[str] = frozenset(
    {
        TRANSLATE_TEXT,
        STREAM_TRANSLATE_TEXT,
        DETECT_LANGUAGE,
        LIST_LANGUAGES,
        LIST_MODELS,
        TRANSLATE_DOCUMENT,
        STREAM_TRANSLATE_DOCUMENT,
    }
)

#: Characters per output token assumed when a request leaves the output budget open.
CHARS_PER_TOKEN = 4


class Surface(enum.Enum):
    """Which class of method a call is: each class has its own slots and threads."""

    TRANSLATION = "translation"  # everything an API key pays for
    OPEN = "open"  # health checks and reflection: no credentials
    ADMIN = "admin"  # AdminService: the admin token


def surface_of(method: str) -> Surface:
    """The class of `method` (`/package.Service/Method`)."""
    service = service_of(method)
    if service in OPEN_SERVICES:
        return Surface.OPEN
    if service in ADMIN_SERVICES:
        return Surface.ADMIN
    return Surface.TRANSLATION


def translation_work(
    text_lengths: Iterable[int],
    *,
    beam_size: int,
    num_alternatives: int = 0,
    max_output_tokens: int = 0,
    glossary_entries: int = 0,
) -> int:
    """Decoding work units a translation asks for: output tokens x hypotheses + entries.

    Each text's output budget is `max_output_tokens` when set (a caller asking for
    1,024 tokens pays for them even if the model stops early), else one token per
    `CHARS_PER_TOKEN` characters of input. Hypotheses are the beam (alternatives
    widen it). Each glossary or do-not-translate entry costs one unit to compile.
    """
    hypotheses = max(beam_size, num_alternatives, 1)
    tokens = sum(
        max(max_output_tokens, math.ceil(length / CHARS_PER_TOKEN) + 1) for length in text_lengths
    )
    return tokens * hypotheses + glossary_entries


@dataclass
class AccessControl:
    """Authentication, slots and per-caller rate limits, shared by every transport.

    Attributes:
        authenticator: Decides who calls; None lets everyone in as anonymous.
        limiter: Rate limits; None disables them. Admin calls are never limited.
        on_reject: Told about every refusal by a limit (metrics).
        metered: Methods the rate limits apply to.
        slots: Bounds on calls held at once, per surface; a surface without an entry
            is unbounded.
        throttle: Refuses credentials from addresses that sent too many wrong ones.
    """

    authenticator: Authenticator | None = None
    limiter: Limiter | None = None
    on_reject: RejectHook | None = None
    metered: Collection[str] = METERED_METHODS
    slots: Mapping[Surface, Slots] = field(default_factory=dict)
    throttle: FailureThrottle | None = None

    def authenticate(
        self, method: str, metadata: Iterable[tuple[str, str | bytes]] | None, peer: str
    ) -> Principal:
        """The caller of `method` (metadata carries `authorization: Bearer <key>`).

        Raises:
            AuthError: UNAUTHENTICATED or PERMISSION_DENIED, with the message to send.
            RateLimited: The caller's address sent too many wrong credentials.
        """
        if self.authenticator is None:
            return Principal(f"peer:{peer_host(peer)}", Role.ANONYMOUS)
        metadata = tuple(metadata or ())
        credential = bearer_token(metadata) is not None and surface_of(method) != Surface.OPEN
        address = peer_host(peer)
        if credential and self.throttle is not None:
            try:
                self.throttle.check(address)
            except RateLimited as refusal:
                self._rejected(method, refusal.decision)
                raise
        try:
            principal = self.authenticator.authenticate(method, metadata, peer)
        except AuthError as error:
            logger.info("refused %s from %s: %s", method, peer, error.message)
            if error.guess and self.throttle is not None:
                self.throttle.failed(address)
            raise
        # With keys optional (auth off), a key that does not verify makes the caller
        # anonymous: not a refusal, and not counted (clients that must send some key,
        # as DeepL's do, would be locked out).
        return principal

    def limited(self, principal: Principal, method: str) -> bool:
        """Whether rate limits apply to this caller on this method."""
        return (
            self.limiter is not None and principal.role is not Role.ADMIN and method in self.metered
        )

    def charge(
        self, principal: Principal, method: str, requests: int, characters: int, work: int = 0
    ) -> Decision:
        """Takes the caller's tokens (or none); reports a refusal to `on_reject`."""
        if not self.limited(principal, method):
            return ALLOWED
        assert self.limiter is not None
        decision = self.limiter.acquire(
            principal.caller, requests, characters, principal.limits, work=work
        )
        if not decision.allowed:
            logger.info("rate limited %s for %s: %s", method, principal.caller, decision.message)
            self._rejected(method, decision)
        return decision

    def pay(
        self, principal: Principal, method: str, requests: int, characters: int, work: int = 0
    ) -> None:
        """`charge`, raising RateLimited on refusal."""
        decision = self.charge(principal, method, requests, characters, work)
        if not decision.allowed:
            raise RateLimited(decision, principal.caller)

    def admit(
        self,
        method: str,
        metadata: Iterable[tuple[str, str | bytes]] | None,
        peer: str,
        characters: int = 0,
        work: int = 0,
    ) -> Principal:
        """Authenticates a call and charges one request, its characters and its work.

        Raises:
            AuthError: The caller may not call `method`.
            RateLimited: The caller's budget cannot pay for the call now.
        """
        principal = self.authenticate(method, metadata, peer)
        self.pay(principal, method, 1, characters, work)
        return principal

    @contextmanager
    def hold(self, principal: Principal, method: str, streaming: bool = False) -> Iterator[None]:
        """Holds one of the slots of `method`'s surface for the block.

        The admin token is bound by the total only; everyone else also by the
        per-caller bounds (calls, and streams when `streaming`).

        Raises:
            RateLimited: Every slot is taken, or the caller holds its share.
        """
        slots = self.slots.get(surface_of(method))
        if slots is None:
            yield
            return
        caller = "" if principal.role is Role.ADMIN else principal.caller
        with ExitStack() as stack:
            try:
                stack.enter_context(slots.hold(caller, streaming))
            except RateLimited as refusal:
                self._rejected(method, refusal.decision)
                raise
            yield

    def usage(self, principal: Principal) -> tuple[int, int]:
        """(characters used in the current window, the caller's character budget).

        The budget is 0 when characters are not limited for this caller.
        """
        if self.limiter is None or principal.role is Role.ADMIN:
            return 0, 0
        return self.limiter.used(principal.caller, "characters", principal.limits)

    def _rejected(self, method: str, decision: Decision) -> None:
        if self.on_reject is not None:
            self.on_reject(method, decision.limit)


def peer_name(host: str, port: int | None = None) -> str:
    """A peer address as gRPC spells it (`ipv4:127.0.0.1:5000`, `ipv6:[::1]:5000`)."""
    if ":" in host:
        return f"ipv6:[{host}]:{port or 0}"
    return f"ipv4:{host}:{port or 0}"
