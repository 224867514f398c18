"""The `dragoman` command: one sub-command per component, registered below.

Each component module exposes `configure(parser)` and `run(args) -> int`, and keeps
heavy imports (ctranslate2, torch) inside `run` so that `dragoman --help` and the
thin client stay fast.

Every failure ends as one line on stderr, `dragoman <command>: <what to fix>`, and a
non-zero exit status: commands catch the failures they expect and say what to do; any
other exception is reported the same way by `main` (DRAGOMAN_DEBUG=1 shows its
traceback instead).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("dragoman.server.cli", "serve CTranslate2 models over gRPC"),
    "translate": ("dragoman.clients.cli", "translate text with a running server"),
    "translate-file": (
        "dragoman.clients.translate_file",
        "translate documents (docx, pptx, xlsx, odt, html, md, srt, po, ...) with a server",
    ),
    "convert": ("dragoman.convert.cli", "convert a HF model (+ LoRA adapters) to CTranslate2"),
    "finetune": ("dragoman.finetune.cli", "fine-tune (LoRA/QLoRA/full) and evaluate models"),
    "demo-model": ("dragoman.finetune.demo_cli", "build the offline demo model"),
    "admin": ("dragoman.server.admin_cli", "manage API keys, the cache, the breaker and models"),
}


def build_parser() -> argparse.ArgumentParser:
    """Builds the top-level parser with every registered sub-command."""
    from dragoman import __version__

    parser = argparse.ArgumentParser(prog="dragoman", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"dragoman {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.configure(command_parser)
        command_parser.set_defaults(_run=module.run)
    return parser


def one_line(error: BaseException) -> str:
    """An exception as one line: its first line of text, or its type when it has none."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `dragoman` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print(f"dragoman {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if os.environ.get("DRAGOMAN_DEBUG"):
            raise
        print(
            f"dragoman {args.command}: {type(error).__name__}: {one_line(error)} "
            "(DRAGOMAN_DEBUG=1 shows where)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
