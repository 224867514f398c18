"""`dragoman serve`: serve CTranslate2 models over gRPC and HTTP.

Flags win over `DRAGOMAN_*` environment variables, which win over the YAML file
given with --config, which wins over the defaults.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dragoman.server.settings import Settings
    from pydantic import ValidationError

#: Flag destination -> settings key, for flags that map one to one.
_TOP_LEVEL_FLAGS: dict[str, str] = {
    "host": "host",
    "port": "port",
    "metrics_port": "metrics_port",
    "default_model": "default_model",
    "workers": "workers",
    "grace_period": "grace_period_s",
    "log_format": "log_format",
    "log_level": "log_level",
    "warmup": "warmup",
    "max_concurrent_rpcs": "max_concurrent_rpcs",
    "max_rpcs_per_caller": "max_rpcs_per_caller",
    "max_streams_per_caller": "max_streams_per_caller",
    "cache_url": "cache_url",
    "models_dir": "models_dir",
}
#: Flag destination -> batching key.
_BATCHING_FLAGS: dict[str, str] = {"batching": "enabled", "max_wait_ms": "max_wait_ms"}
#: Section -> {flag destination -> key} for the access guardrails. The admin token is
#: never a flag (it would show in `ps`): use DRAGOMAN_AUTH__ADMIN_TOKEN or the file.
_SECTION_FLAGS: dict[str, dict[str, str]] = {
    "auth": {"auth": "enabled", "key_db": "key_db"},
    "cache": {"cache": "enabled"},
    "rollout": {"promote_new_versions": "promote_new_versions"},
    "http": {"http": "enabled", "http_host": "host", "http_port": "port"},
    "tls": {
        "tls_cert": "cert",
        "tls_key": "key",
        "tls_client_ca": "client_ca",
        "require_client_cert": "require_client_cert",
    },
}
#: Flag destination -> per-model key (applied to every model).
_MODEL_FLAGS: dict[str, str] = {
    "device": "device",
    "compute_type": "compute_type",
    "inter_threads": "inter_threads",
    "intra_threads": "intra_threads",
}


def configure(parser: argparse.ArgumentParser) -> None:
    """Adds `dragoman serve`'s flags; every default is None so other sources apply."""
    add = parser.add_argument
    add("--model", action="append", metavar="DIR|demo|NAME[@VERSION]=DIR",
        help="model to serve; repeat for several (default: the demo model)")  # fmt: skip
    add("--models-dir", metavar="DIR",
        help="serve DIR/<name>/<version>/ models; load new versions as they appear")  # fmt: skip
    add("--promote-new-versions", action="store_const", const=True,
        help="with --models-dir: send all traffic to each new version once it is warm")  # fmt: skip
    add("--default-model", metavar="NAME", help="model for requests that name none")
    add("--host", help="address to listen on (default 127.0.0.1)")
    add("--port", type=int, help="gRPC port (default 50051; 0 picks a free port)")
    add("--metrics-port", type=int, metavar="P", help="Prometheus /metrics port (default off)")
    add("--http-port", type=int, metavar="P",
        help="HTTP port: LibreTranslate/DeepL APIs, JSON API, web page (default 8080)")  # fmt: skip
    add("--http-host", metavar="H", help="address HTTP listens on (default: --host)")
    add("--no-http", dest="http", action="store_const", const=False, help="serve gRPC only")
    add("--config", metavar="FILE", help="YAML settings file")
    add("--device", choices=["auto", "cpu", "cuda"], help="device for every model")
    add("--compute-type", help="CTranslate2 compute type for every model (default auto)")
    add("--inter-threads", type=int, help="batches run in parallel per model")
    add("--intra-threads", type=int, help="threads per batch (CPU)")
    add("--workers", type=int, help="gRPC worker threads (default 64)")
    add("--grace-period", type=float, metavar="S", help="drain time on SIGTERM (default 30)")
    add("--no-batching", dest="batching", action="store_const", const=False,
        help="run each request's segments alone (no cross-request batching)")  # fmt: skip
    add("--max-wait-ms", type=float, help="how long a batch waits for company (default 5)")
    add("--no-warmup", dest="warmup", action="store_const", const=False,
        help="report SERVING without a warm-up translation")  # fmt: skip
    add("--log-format", choices=["json", "text"], help="log format (default json)")
    add("--log-level", help="log level (default INFO)")
    add("--auth", action="store_const", const=True,
        help="require API keys (authorization: Bearer <key>) on translation RPCs")  # fmt: skip
    add("--key-db", metavar="FILE", help="SQLite file of hashed API keys")
    add("--tls-cert", metavar="PEM", help="server certificate chain: serve TLS")
    add("--tls-key", metavar="PEM", help="the certificate's private key")
    add("--tls-client-ca", metavar="PEM", help="CA bundle for client certificates")
    add("--require-client-cert", action="store_const", const=True,
        help="mutual TLS: refuse clients without a certificate from --tls-client-ca")  # fmt: skip
    add("--max-concurrent-rpcs", type=int, metavar="N",
        help="RPCs served at once; beyond, RESOURCE_EXHAUSTED (default: --workers)")  # fmt: skip
    add("--max-rpcs-per-caller", type=int, metavar="N",
        help="RPCs one caller (API key, or client address) may have in flight "
        "(default 3/4 of --max-concurrent-rpcs)")  # fmt: skip
    add("--max-streams-per-caller", type=int, metavar="N",
        help="streams one caller may have open (default 1/2 of --max-concurrent-rpcs)")  # fmt: skip
    add("--cache-url", metavar="URL",
        help="Redis/Dragonfly for the translation cache (default: in process)")  # fmt: skip
    add("--no-cache", dest="cache", action="store_const", const=False,
        help="turn the translation cache off")  # fmt: skip


def _given(args: argparse.Namespace, flags: dict[str, str]) -> dict[str, Any]:
    return {
        key: getattr(args, dest) for dest, key in flags.items() if getattr(args, dest) is not None
    }


def _model_entry(value: str) -> dict[str, Any]:
    ref, sep, path = value.partition("=")
    if not sep:
        return {"path": value}
    name, _, version = ref.partition("@")
    return {"name": name, "path": path, "version": version}


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings from every source, the flags in `args` winning.

    Raises:
        FileNotFoundError, pydantic.ValidationError: Bad settings.
    """
    from dragoman.server.settings import Settings

    overrides = _given(args, _TOP_LEVEL_FLAGS)
    batching = _given(args, _BATCHING_FLAGS)
    if batching:
        overrides["batching"] = batching
    for section, flags in _SECTION_FLAGS.items():
        if given := _given(args, flags):
            overrides[section] = given
    per_model = _given(args, _MODEL_FLAGS)
    if args.model:
        overrides["models"] = [{**_model_entry(m), **per_model} for m in args.model]
    settings: Settings = Settings.load(args.config, **overrides)
    if per_model and not args.model:
        # Apply the flags to the models the environment or the file named.
        models = [{**m.model_dump(), **per_model} for m in settings.models]
        settings = Settings.load(args.config, **overrides, models=models)
    return settings


def run(args: argparse.Namespace) -> int:
    """Runs the server until SIGTERM/SIGINT; 0 after a clean drain."""
    from dragoman.server.app import serve
    from pydantic import ValidationError

    try:
        settings = settings_from_args(args)
    except ValidationError as error:
        print(f"dragoman serve: invalid settings: {one_line(error)}", file=sys.stderr)
        return 2
    except FileNotFoundError as error:
        print(f"dragoman serve: invalid settings: {error}", file=sys.stderr)
        return 2
    from dragoman.engine.errors import ModelLoadError

    try:
        return serve(settings)
    except ModelLoadError as error:
        print(f"dragoman serve: cannot load the models: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"dragoman serve: {error}", file=sys.stderr)
        return 1


def one_line(error: ValidationError) -> str:
    """A pydantic validation error as one line: `field: problem; field: problem`."""
    problems = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "settings"
        message = str(item["msg"]).removeprefix("Value error, ")
        problems.append(f"{field}: {message}")
    return "; ".join(problems)


def main(argv: list[str] | None = None) -> int:
    """`python -m dragoman.server.cli`: the same as `dragoman serve`."""
    parser = argparse.ArgumentParser(prog="dragoman serve", description=__doc__.splitlines()[0])
    configure(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
