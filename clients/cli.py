"""`dragoman translate`: translate text with a running dragoman server.

Texts come from the command line, or from standard input (one text per line) when none
is given; translations are printed one per line, in order.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dragoman.clients.sync import TranslationClient
    from dragoman.clients.types import TranslationOptions

#: Default server address; DRAGOMAN_ADDRESS overrides it.
DEFAULT_ADDRESS = "127.0.0.1:50051"
#: Lines of standard input sent per request.
STDIN_BATCH = 64


def configure(parser: argparse.ArgumentParser) -> None:
    """Adds `dragoman translate`'s arguments."""
    add = parser.add_argument
    add("texts", nargs="*", metavar="TEXT", help="texts to translate (default: stdin lines)")
    add_language_arguments(parser)
    add_connection_arguments(parser)
    add("--mime-type", default="", help="text/plain (default) or text/html: keep the markup")
    add_terminology_arguments(parser)
    add("--json", action="store_true", help="print one JSON object per translation")
    add("--list-languages", action="store_true", help="list the model's languages and exit")
    add("--list-models", action="store_true", help="list the server's models and exit")


def add_language_arguments(parser: argparse.ArgumentParser) -> None:
    """--to and --from (shared with `dragoman translate-file`)."""
    add = parser.add_argument
    add("--to", dest="target", metavar="CODE", help="target language (model code or BCP-47)")
    add("--from", dest="source", default="", metavar="CODE",
        help="source language (default: detected)")  # fmt: skip


def add_connection_arguments(parser: argparse.ArgumentParser, timeout: float = 30.0) -> None:
    """Server address, model, credentials, TLS and deadline (shared with translate-file)."""
    add = parser.add_argument
    add("--address", action="append", metavar="H:P",
        help="server address; repeat (or comma-separate) for round_robin over several; "
        f"a gRPC target like dns:///svc:50051 works too (default $DRAGOMAN_ADDRESS or "
        f"{DEFAULT_ADDRESS})")  # fmt: skip
    add("--model", default="", help="model name (default: the server's default model)")
    add("--api-key", help="API key (default $DRAGOMAN_API_KEY)")
    add("--tls", action="store_true", help="use TLS (system roots unless --ca)")
    add("--ca", metavar="FILE", help="PEM CA bundle for the server certificate (implies --tls)")
    add("--cert", metavar="FILE", help="PEM client certificate for mutual TLS (implies --tls)")
    add("--key", metavar="FILE", help="PEM key of --cert")
    add("--server-name", default="", help="name to check in the server certificate")
    add("--timeout", type=float, default=timeout, metavar="S", help="deadline per request")


def add_terminology_arguments(parser: argparse.ArgumentParser) -> None:
    """Quality, glossary and do-not-translate terms (shared with translate-file)."""
    add = parser.add_argument
    add("--quality", choices=["fast", "balanced", "best"], help="decoder quality")
    add("--term", action="append", default=[], metavar="SOURCE=TARGET",
        help="glossary entry: translate SOURCE as TARGET (repeat)")  # fmt: skip
    add("--glossary", default="", metavar="NAME", help="a glossary stored on the server")
    add("--keep", action="append", default=[], metavar="TERM",
        help="term kept exactly as it is (repeat)")  # fmt: skip


def client_from_args(args: argparse.Namespace) -> TranslationClient:
    """A client built from the connection arguments."""
    from dragoman.clients.channel import TlsConfig
    from dragoman.clients.sync import TranslationClient

    addresses = args.address or [os.environ.get("DRAGOMAN_ADDRESS", DEFAULT_ADDRESS)]
    address: str | list[str] = addresses[0] if len(addresses) == 1 else addresses
    tls = None
    if args.tls or args.ca or args.cert:
        tls = TlsConfig.from_files(args.ca, args.cert, args.key, args.server_name)
    api_key = args.api_key or os.environ.get("DRAGOMAN_API_KEY") or None
    return TranslationClient(address, api_key=api_key, tls=tls, timeout=args.timeout)


def _stdin_batches() -> Iterator[list[str]]:
    batch: list[str] = []
    for line in sys.stdin:
        batch.append(line.rstrip("\n"))
        if len(batch) == STDIN_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def options_from_args(args: argparse.Namespace) -> TranslationOptions:
    """TranslationOptions from the flags.

    Raises:
        ValueError: A --term without `=`.
    """
    from dragoman.clients.types import Glossary, GlossaryEntry, TranslationOptions

    entries = []
    for term in args.term:
        source, sep, target = term.partition("=")
        if not sep or not source or not target:
            raise ValueError(f"--term {term!r} needs the form SOURCE=TARGET")
        entries.append(GlossaryEntry(source, target))
    glossary = Glossary(args.glossary, tuple(entries)) if entries or args.glossary else None
    return TranslationOptions(
        quality=args.quality or "", mime_type=getattr(args, "mime_type", ""), glossary=glossary,
        do_not_translate=tuple(args.keep),
    )  # fmt: skip


def _translate(client: TranslationClient, args: argparse.Namespace, texts: list[str]) -> None:
    from dragoman.clients.types import Translation

    options = options_from_args(args)
    # Blank lines stay blank: the server rejects empty texts.
    wanted = [t for t in texts if t.strip()]
    results = iter(
        client.translate(wanted, args.target, source=args.source, model=args.model, options=options)
        if wanted
        else []
    )
    for text in texts:
        result = next(results) if text.strip() else Translation(text="")
        if args.json:
            print(json.dumps({"source": text, "translation": result.text,
                              "detected_language": result.detected_language,
                              "model": result.model}, ensure_ascii=False))  # fmt: skip
        else:
            print(result.text)


def _list(client: TranslationClient, args: argparse.Namespace) -> None:
    rows: Sequence[Any]
    if args.list_models:
        rows = client.list_models()
        for model in rows:
            mark = " (default)" if model.default else ""
            print(f"{model.name}{mark}\t{model.family}\t{model.device}\t{model.compute_type}")
    else:
        for language in client.list_languages(args.model):
            print(f"{language.code}\t{language.display_name}\t{','.join(language.aliases)}")


def run(args: argparse.Namespace) -> int:
    """Translates the texts; 0 on success, 1 when the server refuses, 2 on bad usage."""
    from dragoman.clients.errors import DragomanError

    listing = args.list_languages or args.list_models
    if not listing and not args.target:
        print("dragoman translate: --to CODE is required", file=sys.stderr)
        return 2
    try:
        options_from_args(args)
        client = client_from_args(args)
    except (ValueError, OSError) as error:
        print(f"dragoman translate: {error}", file=sys.stderr)
        return 2
    try:
        with client:
            if listing:
                _list(client, args)
            elif args.texts:
                _translate(client, args, list(args.texts))
            else:
                for batch in _stdin_batches():
                    _translate(client, args, batch)
    except DragomanError as error:
        print(f"dragoman translate: {error}", file=sys.stderr)
        return 1
    return 0
