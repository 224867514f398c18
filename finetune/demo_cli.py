"""`dragoman demo-model`: build (or reuse) the offline demo model and report its scores."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)
TARGET_CHRF = 90.0


def configure(parser: argparse.ArgumentParser) -> None:
    """Adds the demo-model options."""
    parser.add_argument("--output", type=Path, help="copy the CTranslate2 model here")
    parser.add_argument("--force", action="store_true", help="replace an existing --output")
    parser.add_argument("--cache-dir", type=Path, help="build cache (default ~/.cache/dragoman)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def copy_model(source: Path, output: Path, force: bool) -> None:
    """Copies a model directory to `output` atomically (staging dir, then rename)."""
    if output.exists() and not force:
        raise FileExistsError(f"{output} already exists; pass --force to replace it")
    staging = output.with_name(f".{output.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(source, staging, ignore=shutil.ignore_patterns(".*"))
    if output.exists():
        old = output.with_name(f".{output.name}.old-{os.getpid()}")
        output.rename(old)
        staging.rename(output)
        shutil.rmtree(old)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(output)


def _output_problem(output: Path, force: bool) -> str:
    """What is wrong with `--output` (empty when nothing is): tried, not guessed."""
    if output.exists() and not force:
        return f"{output} already exists; pass --force to replace it"
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=output.parent):
            pass
    except OSError as error:
        return f"cannot write {output}: {error.strerror}; choose another --output"
    return ""


def run(args: argparse.Namespace) -> int:
    """Builds the demo model (cached by recipe hash), prints chrF per direction."""
    from dragoman.finetune.demo.build import DemoRecipe, build_demo
    from dragoman.finetune.demo.cache import cache_root, locked

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    problem = _output_problem(args.output, args.force) if args.output else None
    if problem:  # before minutes of training
        print(f"dragoman demo-model: {problem}", file=sys.stderr)
        return 1
    recipe = DemoRecipe()
    work = (args.cache_dir or cache_root()) / f"demo-{recipe.digest()}"
    with locked(work):
        build = build_demo(work, recipe, progress=not args.no_progress, say=print)
    print(f"demo model: {build.model_dir}")
    print(f"{'direction':<22} {'chrF':>6} {'BLEU':>6} {'exact':>6}")
    for direction, s in build.scores.items():
        print(f"{direction:<22} {s['chrf']:>6.1f} {s['bleu']:>6.1f} {s['exact_match']:>6.2f}")
    low = [d for d, s in build.scores.items() if s["chrf"] < TARGET_CHRF]
    if low:
        logger.warning("below the chrF target of %.0f: %s", TARGET_CHRF, ", ".join(low))
    if args.output:
        try:
            copy_model(build.model_dir, args.output, args.force)
        except OSError as exc:
            print(f"dragoman demo-model: cannot write {args.output}: {exc}", file=sys.stderr)
            return 1
        print(f"copied to {args.output}")
    return 0
