"""Bounded resources before authentication: connection options, slots and threads.

Everything here is sized before anyone is authenticated, so that no caller, with or
without credentials, can hold more than a bounded share:

- per connection: `max_streams` RPCs at once, idle connections closed, connection
  age bounded (so a connection's resources are released at least that often),
  keepalive enforced both ways (clients pinging faster than `min_ping_interval_s`
  get GOAWAY);
- per call: the first request message must arrive within `receive_timeout_s`, a
  stream's next message within `stream_idle_timeout_s` (server/edge.py);
- per class of call (`Surface`): its own slots and its own threads, so that health
  checks answer while every translation slot is busy.
"""

from __future__ import annotations

from concurrent import futures
from dataclasses import dataclass
from typing import Any

from dragoman.server.access import Surface
from dragoman.server.concurrency import SlotLimits, Slots
from pydantic import BaseModel, Field

#: Threads each pool keeps beyond its slots: refusing a call over the bound takes a
#: thread for a moment, and must not wait behind the calls that hold the slots.
SPARE_THREADS = 4
#: Health checks and reflection calls served at once, in all and per client address.
PROBE_SLOTS = SlotLimits(total=16, per_caller=4, streams_per_caller=2)
#: Admin calls served at once.
ADMIN_SLOTS = SlotLimits(total=4)


class ConnectionSettings(BaseModel):
    """Per-connection and per-call bounds of the gRPC server.

    Attributes:
        max_streams: RPCs one connection may have open at once (HTTP/2 max concurrent
            streams). gRPC clients multiplex many calls, even many channels, on one
            connection, and a call racing the limit is refused (UNAVAILABLE): keep it
            well above the calls one client runs at once (at 100, 64 soak clients saw
            refusals); the slots bound what a caller holds.
        idle_timeout_s: Close a connection without RPCs after this long.
        max_age_s: Ask clients to reconnect (GOAWAY) after this long; 0 = never.
            Also spreads long-lived clients over new replicas.
        max_age_grace_s: How long RPCs may still run on a connection told to go away.
        keepalive_s: Ping a quiet client after this long to notice dead connections.
        keepalive_timeout_s: Close the connection when a ping gets no answer in time.
        min_ping_interval_s: Clients pinging more often than this without data get
            GOAWAY after two strikes.
        receive_timeout_s: Time from a call's start to its first request message;
            beyond it, DEADLINE_EXCEEDED.
        stream_idle_timeout_s: Time a stream may leave the server waiting for its next
            message; beyond it, DEADLINE_EXCEEDED.
    """

    max_streams: int = Field(default=1000, ge=1)
    idle_timeout_s: float = Field(default=300.0, gt=0)
    max_age_s: float = Field(default=1800.0, ge=0)
    max_age_grace_s: float = Field(default=60.0, ge=0)
    keepalive_s: float = Field(default=60.0, gt=0)
    keepalive_timeout_s: float = Field(default=20.0, gt=0)
    min_ping_interval_s: float = Field(default=30.0, ge=0)
    receive_timeout_s: float = Field(default=15.0, gt=0)
    stream_idle_timeout_s: float = Field(default=60.0, gt=0)

    def grpc_options(self) -> list[tuple[str, Any]]:
        """The gRPC server options (channel arguments) for these bounds."""

        def ms(seconds: float) -> int:
            return int(seconds * 1000)

        options: list[tuple[str, Any]] = [
            ("grpc.max_concurrent_streams", self.max_streams),
            ("grpc.max_connection_idle_ms", ms(self.idle_timeout_s)),
            ("grpc.keepalive_time_ms", ms(self.keepalive_s)),
            ("grpc.keepalive_timeout_ms", ms(self.keepalive_timeout_s)),
            ("grpc.http2.min_ping_interval_without_data_ms", ms(self.min_ping_interval_s)),
            ("grpc.http2.max_ping_strikes", 2),
        ]
        if self.max_age_s > 0:
            options += [
                ("grpc.max_connection_age_ms", ms(self.max_age_s)),
                ("grpc.max_connection_age_grace_ms", ms(self.max_age_grace_s)),
            ]
        return options


def slot_limits(total: int, per_caller: int, streams_per_caller: int) -> SlotLimits:
    """Translation slots; per-caller bounds of 0 default to 3/4 and 1/2 of `total`.

    Below 8 slots in all, the defaults leave a caller up to 4 (a share of a handful
    of slots protects nobody and breaks small deployments).
    """
    return SlotLimits(
        total=total,
        per_caller=per_caller or max(total * 3 // 4, min(total, 4)),
        streams_per_caller=streams_per_caller or max(total // 2, min(total, 4)),
    )


@dataclass
class Capacity:
    """The slots and threads of one server.

    Attributes:
        slots: Calls held at once, per surface.
        pools: The threads calls of each surface run on.
        readers: Threads that wait for request messages (one per call reading).
    """

    slots: dict[Surface, Slots]
    pools: dict[Surface, futures.ThreadPoolExecutor]
    readers: futures.ThreadPoolExecutor

    @classmethod
    def plan(cls, translation: SlotLimits) -> Capacity:
        """Slots per surface and a pool for each with `SPARE_THREADS` to refuse with."""
        limits = {Surface.TRANSLATION: translation, Surface.OPEN: PROBE_SLOTS}
        limits[Surface.ADMIN] = ADMIN_SLOTS
        slots = {
            surface: Slots(bound, f"{surface.value} calls") for surface, bound in limits.items()
        }
        pools = {
            surface: futures.ThreadPoolExecutor(
                max_workers=bound.total + SPARE_THREADS, thread_name_prefix=f"rpc-{surface.value}"
            )
            for surface, bound in limits.items()
        }
        readers = futures.ThreadPoolExecutor(
            max_workers=sum(bound.total + SPARE_THREADS for bound in limits.values()),
            thread_name_prefix="rpc-read",
        )
        return cls(slots, pools, readers)

    def shutdown(self) -> None:
        """Stops the threads (once the server has stopped)."""
        for pool in self.pools.values():
            pool.shutdown(wait=False, cancel_futures=True)
        self.readers.shutdown(wait=False, cancel_futures=True)
