"""`dragoman admin`: manage API keys, the cache, the circuit breaker and the models.

    dragoman admin keys create [--name N] [--request-limit R] [--character-limit C]
    dragoman admin keys list [--all]
    dragoman admin keys revoke|reactivate KEY_ID
    dragoman admin cache stats|clear
    dragoman admin breaker status|reset
    dragoman admin models list
    dragoman admin models load NAME VERSION DIR [--promote]
    dragoman admin models unload NAME VERSION [--drain-timeout S]
    dragoman admin models route NAME VERSION=PERCENT...
    dragoman admin models promote NAME VERSION

The admin token comes from --admin-token-file, or the environment
(`DRAGOMAN_ADMIN_TOKEN`, or the server's own `DRAGOMAN_AUTH__ADMIN_TOKEN`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TOKEN_ENVIRONMENT = ("DRAGOMAN_ADMIN_TOKEN", "DRAGOMAN_AUTH__ADMIN_TOKEN")

#: (group, action) -> (RPC name, request builder from args).
_ACTIONS: dict[tuple[str, str], tuple[str, Callable[[Any, argparse.Namespace], Any]]] = {
    ("keys", "create"): (
        "CreateApiKey",
        lambda pb, a: pb.CreateApiKeyRequest(
            display_name=a.name, request_limit=a.request_limit, character_limit=a.character_limit
        ),
    ),
    ("keys", "list"): ("ListApiKeys", lambda pb, a: pb.ListApiKeysRequest(show_revoked=a.all)),
    ("keys", "revoke"): ("RevokeApiKey", lambda pb, a: pb.RevokeApiKeyRequest(key_id=a.key_id)),
    ("keys", "reactivate"): (
        "ReactivateApiKey",
        lambda pb, a: pb.ReactivateApiKeyRequest(key_id=a.key_id),
    ),
    ("cache", "stats"): ("GetCacheStats", lambda pb, a: pb.GetCacheStatsRequest()),
    ("cache", "clear"): ("ClearCache", lambda pb, a: pb.ClearCacheRequest()),
    ("breaker", "status"): ("GetCircuitBreaker", lambda pb, a: pb.GetCircuitBreakerRequest()),
    ("breaker", "reset"): ("ResetCircuitBreaker", lambda pb, a: pb.ResetCircuitBreakerRequest()),
    ("models", "list"): ("ListModels", lambda pb, a: pb.ListModelsRequest()),
    ("models", "load"): (
        "LoadModel",
        lambda pb, a: pb.LoadModelRequest(
            name=a.name, version=a.version, directory=a.directory, promote=a.promote
        ),
    ),
    ("models", "unload"): (
        "UnloadModel",
        lambda pb, a: pb.UnloadModelRequest(
            name=a.name, version=a.version, drain_timeout_seconds=a.drain_timeout
        ),
    ),
    ("models", "route"): (
        "SetTrafficSplit",
        lambda pb, a: pb.SetTrafficSplitRequest(name=a.name, weights=_weights(a.weights)),
    ),
    ("models", "promote"): (
        "SetTrafficSplit",
        lambda pb, a: pb.SetTrafficSplitRequest(name=a.name, weights={a.version: 100}),
    ),
}


def _weights(pairs: list[str]) -> dict[str, int]:
    """`["v1=90", "v2=10"]` -> {"v1": 90, "v2": 10}.

    Raises:
        ValueError: A pair is not VERSION=PERCENT.
    """
    weights = {}
    for pair in pairs:
        version, sep, percent = pair.partition("=")
        if not sep or not percent.strip().isdigit():
            raise ValueError(f"{pair!r} is not VERSION=PERCENT (e.g. 2026-12-01=10)")
        weights[version] = int(percent)
    return weights


def configure(parser: argparse.ArgumentParser) -> None:
    """Adds `dragoman admin`'s flags and sub-commands."""
    add = parser.add_argument
    add("--address", default=os.environ.get("DRAGOMAN_ADDRESS", "127.0.0.1:50051"),
        help="server address HOST:PORT (default $DRAGOMAN_ADDRESS or 127.0.0.1:50051)")  # fmt: skip
    add("--admin-token-file", metavar="FILE",
        help="file holding the admin token (default: $DRAGOMAN_ADMIN_TOKEN)")  # fmt: skip
    add("--tls", action="store_true", help="connect with TLS (implied by --tls-ca)")
    add("--tls-ca", metavar="PEM", help="CA bundle to check the server with")
    add("--tls-cert", metavar="PEM", help="client certificate (mutual TLS)")
    add("--tls-key", metavar="PEM", help="client certificate's key (mutual TLS)")
    add("--tls-server-name", metavar="NAME", help="name to expect in the server certificate")
    add("--timeout", type=float, default=10.0, help="seconds to wait for the server")
    add("--json", action="store_true", help="print the response as JSON")
    groups = parser.add_subparsers(dest="group", required=True, metavar="GROUP")

    keys = groups.add_parser("keys", help="API keys").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    create = keys.add_parser("create", help="create a key and print its secret (shown once)")
    create.add_argument("--name", default="", help="label: who or what uses the key")
    create.add_argument("--request-limit", type=int, default=0, help="requests per window")
    create.add_argument("--character-limit", type=int, default=0, help="characters per window")
    keys.add_parser("list", help="list keys").add_argument(
        "--all", action="store_true", help="include revoked keys"
    )
    for action in ("revoke", "reactivate"):
        keys.add_parser(action, help=f"{action} a key").add_argument("key_id")

    cache = groups.add_parser("cache", help="translation cache").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    cache.add_parser("stats", help="hits, misses, errors, entries")
    cache.add_parser("clear", help="remove every entry")

    breaker = groups.add_parser("breaker", help="engine circuit breaker").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    breaker.add_parser("status", help="state and failure count")
    breaker.add_parser("reset", help="close the breaker")
    _configure_models(groups)


def _configure_models(groups: Any) -> None:
    models = groups.add_parser("models", help="model versions and traffic").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    models.add_parser("list", help="names, versions, traffic weights")
    load = models.add_parser("load", help="load and warm a version (no traffic until routed)")
    load.add_argument("name", help="model name requests use")
    load.add_argument("version", help="version label, e.g. 2026-12-01")
    load.add_argument("directory", help="CTranslate2 model directory on the server")
    load.add_argument("--promote", action="store_true", help="send all traffic to it when warm")
    unload = models.add_parser("unload", help="drain a version, then free it")
    unload.add_argument("name")
    unload.add_argument("version")
    unload.add_argument("--drain-timeout", type=float, default=0.0, metavar="S",
                        help="seconds to wait for calls on it (default 30)")  # fmt: skip
    route = models.add_parser("route", help="split a name's traffic: VERSION=PERCENT...")
    route.add_argument("name")
    route.add_argument("weights", nargs="+", metavar="VERSION=PERCENT")
    promote = models.add_parser("promote", help="send all of a name's traffic to a version")
    promote.add_argument("name")
    promote.add_argument("version")


def _admin_token(args: argparse.Namespace) -> str:
    if args.admin_token_file:
        return Path(args.admin_token_file).read_text(encoding="utf-8").strip()
    for name in TOKEN_ENVIRONMENT:
        if os.environ.get(name):
            return os.environ[name]
    raise ValueError("no admin token: set DRAGOMAN_ADMIN_TOKEN or pass --admin-token-file FILE")


def _channel(args: argparse.Namespace) -> Any:
    import grpc
    from dragoman.server.tls import channel_credentials

    if not (args.tls or args.tls_ca or args.tls_cert):
        return grpc.insecure_channel(args.address)
    options = []
    if args.tls_server_name:
        options.append(("grpc.ssl_target_name_override", args.tls_server_name))
    credentials = channel_credentials(args.tls_ca or "", args.tls_cert or "", args.tls_key or "")
    return grpc.secure_channel(args.address, credentials, options=options)


def _print_human(rpc: str, response: Any) -> None:
    from google.protobuf import json_format

    from dragoman.admin.v1 import admin_service_pb2 as pb

    if rpc == "CreateApiKey":
        print(f"key_id: {response.api_key.key_id}")
        print(f"secret: {response.secret}")
        print("store the secret now: the server keeps only its hash and cannot show it again")
        return
    if rpc == "ListApiKeys":
        print(f"{'KEY_ID':<18} {'STATE':<8} {'CREATED (UTC)':<20} {'LIMITS':<16} NAME")
        for key in response.api_keys:
            created = datetime.fromtimestamp(key.create_time.seconds, UTC)
            state = pb.ApiKeyState.Name(key.state).removeprefix("API_KEY_STATE_").lower()
            limits = f"{key.request_limit or '-'}r/{key.character_limit or '-'}c"
            print(
                f"{key.key_id:<18} {state:<8} {created:%Y-%m-%d %H:%M:%S} "
                f"{limits:<16} {key.display_name}"
            )
        return
    if rpc in _MODEL_RPCS:
        _print_models(rpc, response)
        return
    fields = json_format.MessageToDict(
        response, always_print_fields_with_no_presence=True, preserving_proto_field_name=True
    )
    for name, value in fields.items():
        print(f"{name}: {value}")


_MODEL_RPCS = ("ListModels", "LoadModel", "UnloadModel", "SetTrafficSplit")


def _print_models(rpc: str, response: Any) -> None:
    from dragoman.admin.v1 import admin_service_pb2 as pb

    if rpc == "UnloadModel":
        print("freed" if response.freed else "draining: freed when the calls on it end")
    statuses = response.models if rpc == "ListModels" else [response.model]
    print(f"{'NAME':<16} {'VERSION':<16} {'STATE':<9} {'WEIGHT':>6} {'LIVE':<4} "
          f"{'IN_FLIGHT':>9}  MODEL / DIRECTORY")  # fmt: skip
    for status in statuses:
        for index, v in enumerate(status.versions):
            state = pb.ModelVersionState.Name(v.state).removeprefix("MODEL_VERSION_STATE_")
            default = " (default model)" if status.default and index == 0 else ""
            print(
                f"{status.name:<16} {v.version:<16} {state.lower():<9} {v.weight:>5}% "
                f"{'*' if v.live else '':<4} {v.in_flight:>9}  {v.model}{default} {v.directory}"
            )


def run(args: argparse.Namespace) -> int:
    """Calls one AdminService RPC and prints its answer; 0 on success."""
    import grpc
    from google.protobuf import json_format

    from dragoman.admin.v1 import admin_service_pb2 as pb
    from dragoman.admin.v1 import admin_service_pb2_grpc as pb_grpc

    rpc, build = _ACTIONS[(args.group, args.action)]
    try:
        metadata = (("authorization", f"Bearer {_admin_token(args)}"),)
        with _channel(args) as channel:
            call = getattr(pb_grpc.AdminServiceStub(channel), rpc)
            response = call(build(pb, args), metadata=metadata, timeout=args.timeout)
    except grpc.RpcError as error:
        hint = f" (is the server running at {args.address}?)" * (
            error.code() is grpc.StatusCode.UNAVAILABLE
        )
        print(f"dragoman admin: {error.code().name}: {error.details()}{hint}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:
        print(f"dragoman admin: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(json_format.MessageToDict(response, preserving_proto_field_name=True)))
    else:
        _print_human(rpc, response)
    return 0
