"""`dragoman convert`: HF model (+ LoRA adapters) -> CTranslate2 model directory."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from dragoman.convert.converter import QUANTIZATIONS


def configure(parser: argparse.ArgumentParser) -> None:
    """Adds the convert options."""
    parser.add_argument("model", metavar="MODEL_OR_DIR", help="hub id or local HF model dir")
    parser.add_argument("--output", "-o", type=Path, required=True, help="CT2 model directory")
    parser.add_argument(
        "--adapter",
        action="append",
        default=[],
        metavar="DIR",
        help="LoRA adapter to merge (repeatable, merged in order)",
    )
    parser.add_argument("--quantization", default="int8", choices=QUANTIZATIONS)
    parser.add_argument("--force", action="store_true", help="replace an existing --output")
    parser.add_argument("--name", default="", help="model name in dragoman.json")
    parser.add_argument("--family", default="", help="nllb, m2m100 or demo (default: inferred)")
    parser.add_argument(
        "--sample",
        type=Path,
        metavar="FILE",
        help="parity sample: TSV/JSONL parallel file (default: built-in English)",
    )
    parser.add_argument("--sample-size", type=int, default=100, help="rows of --sample to use")
    parser.add_argument(
        "--check",
        type=float,
        nargs="?",
        const=0.99,
        default=None,
        metavar="RATIO",
        help="fail when CT2 agrees with HF on fewer than "
        "RATIO of the sample (default 0.99); nothing is written",
    )
    parser.add_argument("--no-parity", action="store_true", help="skip the parity check")


def run(args: argparse.Namespace) -> int:
    """Runs the conversion; prints the parity report."""
    from dragoman.convert.converter import ConversionError, ConvertRequest, convert
    from dragoman.convert.parity import samples_from_rows
    from dragoman.finetune.data import DataError, read_rows

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    samples = None
    try:
        if args.no_parity:
            samples = []
        elif args.sample:
            samples = samples_from_rows(read_rows(args.sample), limit=args.sample_size)
        result = convert(
            ConvertRequest(
                model=args.model,
                output=args.output,
                adapters=tuple(args.adapter),
                quantization=args.quantization,
                force=args.force,
                name=args.name,
                family=args.family,
                samples=samples,
                check_threshold=args.check,
            ),
            progress=print,
        )
    except (ConversionError, DataError) as exc:
        print(f"dragoman convert: {exc}", file=sys.stderr)
        return 1
    if result.parity is not None:
        print(result.parity.summary())
        for source, hf, ct2 in result.parity.mismatches[:3]:
            print(f"  differs: {source!r}\n    HF:  {hf!r}\n    CT2: {ct2!r}")
    languages = [lang["code"] for lang in result.metadata["languages"]]
    print(f"{result.output}: family {result.metadata['family']}, {len(languages)} languages")
    return 0
