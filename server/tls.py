"""TLS and mutual TLS from PEM files, for the server and for clients.

The server re-reads its certificate files when they change (checked at each new
handshake, by modification time), so a renewed certificate needs no restart.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import grpc
from pydantic import BaseModel, model_validator

logger = logging.getLogger(__name__)


class TLSSettings(BaseModel):
    """Transport security; off when `cert` is empty.

    Attributes:
        cert: Server certificate chain (PEM).
        key: The certificate's private key (PEM).
        client_ca: CA bundle (PEM) that client certificates must chain to; needs
            `require_client_cert` (mutual TLS).
        require_client_cert: Refuse clients without a certificate signed by
            `client_ca` (mutual TLS). gRPC Python servers cannot ask for an optional
            client certificate (they require one or never ask), so `client_ca` without
            it is refused rather than silently leaving certificates unchecked.
    """

    cert: str = ""
    key: str = ""
    client_ca: str = ""
    require_client_cert: bool = False

    @property
    def enabled(self) -> bool:
        """True when the server listens with TLS."""
        return bool(self.cert)

    @model_validator(mode="after")
    def _check(self) -> TLSSettings:
        if bool(self.cert) != bool(self.key):
            raise ValueError("tls.cert and tls.key go together: set both or neither")
        if self.require_client_cert and not self.client_ca:
            raise ValueError("tls.require_client_cert needs tls.client_ca to check clients with")
        if self.client_ca and not self.cert:
            raise ValueError("tls.client_ca needs tls.cert and tls.key (mutual TLS is TLS)")
        if self.client_ca and not self.require_client_cert:
            raise ValueError(
                "tls.client_ca without tls.require_client_cert: a gRPC Python server either "
                "requires client certificates or never asks for one, so certificates would "
                "go unchecked; set tls.require_client_cert (mutual TLS) or drop tls.client_ca"
            )
        return self


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise FileNotFoundError(f"cannot read the {what} {path!r}: {error.strerror}") from error


class _ReloadingConfig:
    """Builds a certificate configuration, and a new one when the files change."""

    def __init__(self, settings: TLSSettings) -> None:
        self._settings = settings
        self._paths = [p for p in (settings.cert, settings.key, settings.client_ca) if p]
        self._lock = threading.Lock()
        self._stamp = self._mtimes()

    def _mtimes(self) -> tuple[float, ...]:
        return tuple(os.stat(path).st_mtime_ns for path in self._paths)

    def build(self) -> grpc.ServerCertificateConfiguration:
        s = self._settings
        pair = (_read(s.key, "TLS key"), _read(s.cert, "TLS certificate"))
        ca = _read(s.client_ca, "client CA bundle") if s.client_ca else None
        return grpc.ssl_server_certificate_configuration([pair], root_certificates=ca)

    def fetch(self) -> grpc.ServerCertificateConfiguration | None:
        """Called by gRPC at each handshake: a new configuration, or None for no change."""
        try:
            with self._lock:
                stamp = self._mtimes()
                if stamp == self._stamp:
                    return None
                config = self.build()
                self._stamp = stamp
        except (OSError, ValueError) as error:
            # Keep serving with the old certificate rather than refusing everyone.
            logger.error("TLS files changed but cannot be read, keeping the old ones: %s", error)
            return None
        logger.info("reloaded TLS certificate from %s", self._settings.cert)
        return config


def server_credentials(settings: TLSSettings) -> grpc.ServerCredentials:
    """Server credentials for `server.add_secure_port`.

    Raises:
        FileNotFoundError: A configured file cannot be read (the message names it).
    """
    source = _ReloadingConfig(settings)
    return grpc.dynamic_ssl_server_credentials(
        source.build(),
        source.fetch,
        require_client_authentication=settings.require_client_cert,
    )


def channel_credentials(ca: str = "", cert: str = "", key: str = "") -> grpc.ChannelCredentials:
    """Client credentials: trust `ca` (empty = system roots), present `cert`/`key` for mTLS.

    Raises:
        ValueError: Only one of `cert` and `key` is given.
        FileNotFoundError: A file cannot be read.
    """
    if bool(cert) != bool(key):
        raise ValueError("a client certificate needs both --tls-cert and --tls-key")
    return grpc.ssl_channel_credentials(
        root_certificates=_read(ca, "CA bundle") if ca else None,
        private_key=_read(key, "TLS key") if key else None,
        certificate_chain=_read(cert, "TLS certificate") if cert else None,
    )
