"""`dragoman translate-file`: translate documents with a running dragoman server.

`IN` is a file or a folder; a folder is walked recursively and every file of a
supported format is translated into the same tree under the output folder. Output
names default to the input's with the target code before the extension
(`report.docx` -> `report.fr.docx`, `docs/` -> `docs.fr/`). A progress bar follows
the server's progress messages (StreamTranslateDocument).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from dragoman.clients.cli import (
    add_connection_arguments,
    add_language_arguments,
    add_terminology_arguments,
    client_from_args,
    options_from_args,
)

if TYPE_CHECKING:
    from dragoman.clients.sync import TranslationClient
    from dragoman.clients.types import TranslationOptions

#: Extensions the server's document formats are registered for (a test keeps this in
#: step with engine/documents), so a folder walk sends only files it can translate.
DOCUMENT_EXTENSIONS = frozenset(
    [
        *(".docx", ".pptx", ".xlsx", ".odt", ".odp", ".ods", ".html", ".htm", ".xhtml"),
        *(".xht", ".md", ".markdown", ".txt", ".text", ".srt", ".vtt", ".po", ".pot"),
        *(".xlf", ".xliff"),
    ]
)
#: Deadline of one document, in seconds (a big document takes minutes on a CPU).
DEFAULT_TIMEOUT_S = 600.0


def configure(parser: argparse.ArgumentParser) -> None:
    """Adds `dragoman translate-file`'s arguments."""
    add = parser.add_argument
    add("input", metavar="IN", type=Path, help="a document, or a folder of documents")
    add("--output", "-o", type=Path, metavar="OUT",
        help="output file or folder (default: IN with the target code before its "
        "extension)")  # fmt: skip
    add_language_arguments(parser)
    add_connection_arguments(parser, timeout=DEFAULT_TIMEOUT_S)
    add_terminology_arguments(parser)
    add("--mime-type", default="", help="the document's format (default: from its extension)")
    add("--no-progress", action="store_true", help="no progress bar")


def default_output(path: Path, target: str) -> Path:
    """`report.docx` -> `report.<target>.docx`; a folder `docs` -> `docs.<target>`."""
    if path.is_dir():
        return path.with_name(f"{path.name}.{target}")
    return path.with_name(f"{path.stem}.{target}{path.suffix}")


def _jobs(source: Path, output: Path) -> Iterator[tuple[Path, Path]]:
    if not source.is_dir():
        yield source, output
        return
    for path in sorted(source.rglob("*")):
        if path.is_file() and path.suffix.lower() in DOCUMENT_EXTENSIONS:
            yield path, output / path.relative_to(source)


def _progress_bar(
    name: str, enabled: bool
) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    from tqdm import tqdm

    bar = tqdm(desc=name, unit="seg", disable=not enabled, leave=False, file=sys.stderr)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return update, bar.close


def _translate_one(
    client: TranslationClient, args: argparse.Namespace, options: TranslationOptions,
    source: Path, target: Path,
) -> str:  # fmt: skip
    update, close = _progress_bar(source.name, not args.no_progress)
    try:
        result = client.translate_document(
            source.read_bytes(), args.target, file_name=source.name, mime_type=args.mime_type,
            source=args.source, model=args.model, options=options, progress=update,
        )  # fmt: skip
    finally:
        close()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(result.content)
    plural = "" if result.segment_count == 1 else "s"
    return (
        f"{target}\t{result.segment_count} segment{plural}, {result.character_count} "
        f"characters, {result.detected_language} -> {args.target}"
    )


def run(args: argparse.Namespace) -> int:
    """Translates the documents; 0 when all succeed, 1 when any fails, 2 on bad usage."""
    from dragoman.clients.errors import DragomanError

    if not args.target:
        print("dragoman translate-file: --to CODE is required", file=sys.stderr)
        return 2
    if not args.input.exists():
        print(f"dragoman translate-file: {args.input} does not exist", file=sys.stderr)
        return 2
    output = args.output or default_output(args.input, args.target)
    jobs = list(_jobs(args.input, output))
    if not jobs:
        print(f"dragoman translate-file: no documents in {args.input}", file=sys.stderr)
        return 2
    try:
        options = options_from_args(args)
        client = client_from_args(args)
    except (ValueError, OSError) as error:
        print(f"dragoman translate-file: {error}", file=sys.stderr)
        return 2
    failed = 0
    with client:
        for source, target in jobs:
            try:
                print(_translate_one(client, args, options, source, target), flush=True)
            except (DragomanError, OSError) as error:
                failed += 1
                print(f"dragoman translate-file: {source}: {error}", file=sys.stderr)
    return 1 if failed else 0
