"""How the client reaches servers: targets, client-side load balancing, TLS, keepalive.

One address (`host:port`) goes to gRPC's DNS resolver, so a Kubernetes headless Service
(`dns:///dragoman-headless.ns.svc.cluster.local:50051`) yields every ready pod and
`round_robin` spreads calls over them. Several addresses are resolved once, here, into
one `ipv4:`/`ipv6:` target that `round_robin` balances across.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

#: Target prefixes gRPC resolves itself; such a target is used as given.
_SCHEMES = ("dns:", "ipv4:", "ipv6:", "unix:", "unix-abstract:", "vsock:")


@dataclass(frozen=True)
class TlsConfig:
    """TLS (and mutual TLS) settings.

    Attributes:
        root_certificates: PEM CA bundle that signs the server's certificate; None
            uses the system's roots.
        certificate_chain: PEM client certificate, for mutual TLS.
        private_key: PEM key of the client certificate.
        server_name: Name to check in the server's certificate when it differs from
            the address (for example when connecting by IP address).
    """

    root_certificates: bytes | None = None
    certificate_chain: bytes | None = None
    private_key: bytes | None = None
    server_name: str = ""

    @classmethod
    def from_files(
        cls,
        ca: str | Path | None = None,
        cert: str | Path | None = None,
        key: str | Path | None = None,
        server_name: str = "",
    ) -> TlsConfig:
        """Reads the PEM files; any of them may be omitted."""

        def read(path: str | Path | None) -> bytes | None:
            return Path(path).read_bytes() if path else None

        if bool(cert) != bool(key):
            raise ValueError("a client certificate needs its key and the other way round")
        return cls(read(ca), read(cert), read(key), server_name)

    def credentials(self) -> grpc.ChannelCredentials:
        """The gRPC channel credentials."""
        return grpc.ssl_channel_credentials(
            root_certificates=self.root_certificates,
            private_key=self.private_key,
            certificate_chain=self.certificate_chain,
        )


@dataclass(frozen=True)
class KeepaliveConfig:
    """HTTP/2 keepalive pings, to notice dead connections (a node that vanished).

    The server must accept pings this often (its
    `grpc.http2.min_ping_interval_without_data_ms`), or it answers with GOAWAY.

    Attributes:
        time_s: Ping after this long without activity.
        timeout_s: Close the connection when a ping gets no answer in this time.
        permit_without_calls: Also ping when no call is in flight.
    """

    time_s: float = 60.0
    timeout_s: float = 20.0
    permit_without_calls: bool = False


@dataclass(frozen=True)
class ChannelConfig:
    """Everything about the connection.

    Attributes:
        target: The gRPC target built by `build_target`.
        tls: TLS settings; None is a plaintext connection.
        keepalive: Keepalive pings.
        load_balancing: gRPC load-balancing policy: `round_robin` or `pick_first`.
        health_check_service: When set, gRPC health-checks every backend
            (grpc.health.v1 Watch) with this service name (`""` = the whole server)
            and sends calls only to SERVING ones.
        max_message_bytes: Largest message sent or received.
        reconnect_backoff_s: (initial, maximum) wait between reconnection attempts.
        extra_options: More gRPC channel arguments.
    """

    target: str
    tls: TlsConfig | None = None
    keepalive: KeepaliveConfig = field(default_factory=KeepaliveConfig)
    load_balancing: str = "round_robin"
    health_check_service: str | None = None
    max_message_bytes: int = 8 * 1024 * 1024
    reconnect_backoff_s: tuple[float, float] = (0.5, 10.0)
    extra_options: tuple[tuple[str, Any], ...] = ()

    def service_config(self) -> str:
        """The channel's service config (JSON): load balancing and health checks."""
        config: dict[str, Any] = {"loadBalancingConfig": [{self.load_balancing: {}}]}
        if self.health_check_service is not None:
            config["healthCheckConfig"] = {"serviceName": self.health_check_service}
        return json.dumps(config)

    def options(self) -> list[tuple[str, Any]]:
        """gRPC channel arguments."""
        from dragoman import __version__

        initial, maximum = self.reconnect_backoff_s
        options: list[tuple[str, Any]] = [
            ("grpc.service_config", self.service_config()),
            ("grpc.service_config_disable_resolution", 1),
            ("grpc.keepalive_time_ms", int(self.keepalive.time_s * 1000)),
            ("grpc.keepalive_timeout_ms", int(self.keepalive.timeout_s * 1000)),
            ("grpc.keepalive_permit_without_calls", int(self.keepalive.permit_without_calls)),
            ("grpc.max_send_message_length", self.max_message_bytes),
            ("grpc.max_receive_message_length", self.max_message_bytes),
            ("grpc.initial_reconnect_backoff_ms", int(initial * 1000)),
            ("grpc.min_reconnect_backoff_ms", int(initial * 1000)),
            ("grpc.max_reconnect_backoff_ms", int(maximum * 1000)),
            ("grpc.primary_user_agent", f"dragoman-client/{__version__}"),
        ]
        if self.tls is not None and self.tls.server_name:
            options.append(("grpc.ssl_target_name_override", self.tls.server_name))
            options.append(("grpc.default_authority", self.tls.server_name))
        return options + list(self.extra_options)

    def credentials(self) -> grpc.ChannelCredentials | None:
        """Channel credentials, or None for plaintext."""
        return self.tls.credentials() if self.tls is not None else None

    def open(self, api: Any = grpc) -> Any:
        """A new channel to `target` with these options and credentials.

        Args:
            api: `grpc` for a blocking channel, `grpc.aio` for an asyncio one; both
                have the same `insecure_channel`/`secure_channel` signatures.
        """
        credentials = self.credentials()
        if credentials is None:
            return api.insecure_channel(self.target, options=self.options())
        return api.secure_channel(self.target, credentials, options=self.options())


def build_target(addresses: str | Sequence[str]) -> str:
    """Builds a gRPC target from one or several addresses.

    Args:
        addresses: A gRPC target (`dns:///svc:50051`, `ipv4:1.2.3.4:1,1.2.3.5:1`), one
            `host:port`, or several `host:port` (a sequence or a comma-separated string).

    Returns:
        The target: as given for a scheme or a single address; for several addresses,
        an `ipv4:`/`ipv6:` list of every address they resolve to (resolved now).

    Raises:
        ValueError: No address, an address without a port, or addresses that resolve
            to both IPv4 and IPv6 only.
    """
    if isinstance(addresses, str):
        if addresses.startswith(_SCHEMES):
            return addresses
        addresses = addresses.split(",")
    items = [a.strip() for a in addresses if a.strip()]
    if not items:
        raise ValueError("no server address given: pass host:port (or several)")
    if len(items) == 1:
        return items[0]
    resolved: dict[int, list[str]] = {socket.AF_INET: [], socket.AF_INET6: []}
    for item in items:
        family, hosts, port = _resolve(item)
        for host in hosts:
            entry = f"[{host}]:{port}" if family == socket.AF_INET6 else f"{host}:{port}"
            if entry not in resolved[family]:
                resolved[family].append(entry)
    if resolved[socket.AF_INET] and resolved[socket.AF_INET6]:
        raise ValueError(
            f"addresses {items} mix IPv4 and IPv6; gRPC balances over one family: "
            "use addresses of one family (or one DNS name)"
        )
    if resolved[socket.AF_INET]:
        return "ipv4:" + ",".join(resolved[socket.AF_INET])
    return "ipv6:" + ",".join(resolved[socket.AF_INET6])


def _split(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ValueError(f"address {address!r} needs the form host:port")
    return host.strip("[]"), int(port)


def _resolve(address: str) -> tuple[int, list[str], int]:
    """(family, IP addresses, port) of one host:port; IPv4 preferred for names."""
    host, port = _split(address)
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return (socket.AF_INET6 if ip.version == 6 else socket.AF_INET), [str(ip)], port
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
        except socket.gaierror:
            continue
        hosts = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if hosts:
            return family, hosts, port
    raise ValueError(f"cannot resolve {host!r} (from address {address!r})")
