#!/usr/bin/env python3
"""Container health probe: asks a dragoman server's `grpc.health.v1.Health` service.

Docker's HEALTHCHECK (and anything else without a native gRPC probe) runs it inside the
container. Kubernetes needs no script: its `grpc:` probes speak the same protocol.

    dragoman-healthcheck [--address 127.0.0.1:50051] [--service NAME] [--timeout 3]

Exit status: 0 when the server answers SERVING, 1 when it answers anything else, 2 when
it cannot be reached in time. The address defaults to `DRAGOMAN_HEALTH_ADDRESS`, else
`127.0.0.1:$DRAGOMAN_PORT` (50051).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

SERVING = 0
NOT_SERVING = 1
UNREACHABLE = 2


def default_address() -> str:
    """The address to probe when none is given on the command line."""
    explicit = os.environ.get("DRAGOMAN_HEALTH_ADDRESS", "")
    return explicit or f"127.0.0.1:{os.environ.get('DRAGOMAN_PORT', '50051')}"


def check(address: str, service: str = "", timeout: float = 3.0) -> tuple[int, str]:
    """Asks the server at `address` for the health of `service` ("" = the whole server).

    Returns:
        The exit status (SERVING, NOT_SERVING or UNREACHABLE) and a one-line reason.
    """
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.RpcError as error:
            code = error.code() if isinstance(error, grpc.Call) else None
            return UNREACHABLE, f"{address}: {code.name if code else 'error'}: {error}"
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    return (SERVING if status == "SERVING" else NOT_SERVING), f"{address}: {status}"


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one check and prints its outcome; the exit status says healthy or not."""
    parser = argparse.ArgumentParser(prog="dragoman-healthcheck", description=__doc__)
    parser.add_argument("--address", default=default_address(), help="host:port to probe")
    parser.add_argument("--service", default="", help="service name; empty = whole server")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds to wait")
    args = parser.parse_args(argv)
    status, reason = check(args.address, args.service, args.timeout)
    print(reason, file=sys.stdout if status == SERVING else sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
