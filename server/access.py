"""Transport-neutral access control: who calls, and whether their budget pays.

One `AccessControl` per server serves both front ends: the gRPC interceptor
(server/guard.py) and the HTTP front end (server/http/). Both name a call by its gRPC
method (an HTTP `POST /translate` is a TranslateText), and a caller by its API key id
or its peer host spelled as gRPC spells peers, so one caller has one budget whichever
transport it uses, and the lists of open, admin and metered methods exist once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from dragoman.server.auth import Authenticator, AuthError, Principal, Role, peer_host
from dragoman.server.ratelimit import ALLOWED, Decision, RateLimiter

logger = logging.getLogger(__name__)

#: Called with (method, limit) for every call refused by a rate limit.
RejectHook = Callable[[str, str], None]

TRANSLATE_TEXT = "/dragoman.translation.v1.TranslationService/TranslateText"
STREAM_TRANSLATE_TEXT = "/dragoman.translation.v1.TranslationService/StreamTranslateText"
DETECT_LANGUAGE = "/dragoman.translation.v1.TranslationService/DetectLanguage"
LIST_LANGUAGES = "/dragoman.translation.v1.TranslationService/ListLanguages"
LIST_MODELS = "/dragoman.translation.v1.TranslationService/ListModels"

#: Methods whose calls the rate limits charge (a request each, plus input characters).
METERED_METHODS: frozenset[str] = frozenset({TRANSLATE_TEXT, STREAM_TRANSLATE_TEXT})


class RateLimited(Exception):
    """A call refused by a rate limit.

    Attributes:
        decision: Which budget refused it, when to retry, and the message.
        caller: Whose budget it was.
    """

    def __init__(self, decision: Decision, caller: str) -> None:
        super().__init__(decision.message)
        self.decision = decision
        self.caller = caller


def peer_name(host: str, port: int | None = None) -> str:
    """A peer address as gRPC spells it (`ipv4:127.0.0.1:5000`, `ipv6:[::1]:5000`)."""
    if ":" in host:
        return f"ipv6:[{host}]:{port or 0}"
    return f"ipv4:{host}:{port or 0}"


@dataclass
class AccessControl:
    """Authentication and per-caller rate limits, shared by every transport.

    Attributes:
        authenticator: Decides who calls; None lets everyone in as anonymous.
        limiter: Rate limits; None disables them. Admin calls are never limited.
        on_reject: Told about every rate-limit refusal (metrics).
        metered: Methods the rate limits apply to.
    """

    authenticator: Authenticator | None = None
    limiter: RateLimiter | None = None
    on_reject: RejectHook | None = None
    metered: Collection[str] = METERED_METHODS

    def authenticate(
        self, method: str, metadata: Iterable[tuple[str, str | bytes]] | None, peer: str
    ) -> Principal:
        """The caller of `method` (metadata carries `authorization: Bearer <key>`).

        Raises:
            AuthError: UNAUTHENTICATED or PERMISSION_DENIED, with the message to send.
        """
        if self.authenticator is None:
            return Principal(f"peer:{peer_host(peer)}", Role.ANONYMOUS)
        try:
            return self.authenticator.authenticate(method, metadata, peer)
        except AuthError as error:
            logger.info("refused %s from %s: %s", method, peer, error.message)
            raise

    def limited(self, principal: Principal, method: str) -> bool:
        """Whether rate limits apply to this caller on this method."""
        return (
            self.limiter is not None and principal.role is not Role.ADMIN and method in self.metered
        )

    def charge(self, principal: Principal, method: str, requests: int, characters: int) -> Decision:
        """Takes the caller's tokens (or none); reports a refusal to `on_reject`."""
        if not self.limited(principal, method):
            return ALLOWED
        assert self.limiter is not None
        decision = self.limiter.acquire(principal.caller, requests, characters, principal.limits)
        if not decision.allowed:
            logger.info("rate limited %s for %s: %s", method, principal.caller, decision.message)
            if self.on_reject is not None:
                self.on_reject(method, decision.limit)
        return decision

    def admit(
        self,
        method: str,
        metadata: Iterable[tuple[str, str | bytes]] | None,
        peer: str,
        characters: int = 0,
    ) -> Principal:
        """Authenticates a call and charges one request and its input characters.

        Raises:
            AuthError: The caller may not call `method`.
            RateLimited: The caller's budget cannot pay for the call now.
        """
        principal = self.authenticate(method, metadata, peer)
        decision = self.charge(principal, method, requests=1, characters=characters)
        if not decision.allowed:
            raise RateLimited(decision, principal.caller)
        return principal

    def usage(self, principal: Principal) -> tuple[int, int]:
        """(characters used in the current window, the caller's character budget).

        The budget is 0 when characters are not limited for this caller.
        """
        if self.limiter is None or principal.role is Role.ADMIN:
            return 0, 0
        return self.limiter.used(principal.caller, "characters", principal.limits)
