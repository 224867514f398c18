"""`dragoman finetune`: train LoRA/QLoRA adapters or full fine-tunes; evaluate models."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

# flag -> (type, help); None defaults so that a flag given overrides the YAML file.
_TRAIN_FLAGS: dict[str, tuple[Any, str]] = {
    "model": (str, "base model: hub id or local HF directory"),
    "train": (str, "training data (.tsv with a header of language codes, or .jsonl)"),
    "dev": (str, "dev data, scored (chrF) every --eval-every steps for early stopping"),
    "output": (str, "where the adapter (or full model) is written"),
    "method": (str, "lora (default), qlora (4-bit, CUDA only) or full"),
    "r": (int, "LoRA rank (default 8)"),
    "alpha": (int, "LoRA alpha (default 16)"),
    "dropout": (float, "LoRA dropout (default 0.05)"),
    "target_modules": (str, "comma-separated module names (default attention + FFN)"),
    "directions": (str, "e.g. eng_Latn-qaa_Latn,qaa_Latn-eng_Latn (default: all in data)"),
    "epochs": (float, "passes over the data (default 3)"),
    "steps": (int, "optimizer steps (overrides --epochs)"),
    "batch_size": (int, "sentence pairs per batch (default 16)"),
    "grad_accum": (int, "batches per optimizer step (default 1)"),
    "learning_rate": (float, "peak learning rate (default 1e-3)"),
    "warmup_steps": (int, "linear warmup steps (default 50)"),
    "eval_every": (int, "score the dev set every N steps (default: at the end)"),
    "patience": (int, "stop after N evals without dev chrF gain (default: never)"),
    "seed": (int, "random seed (default 1)"),
    "threads": (int, "torch CPU threads (default: torch's choice)"),
}


def configure(parser: argparse.ArgumentParser) -> None:
    """Adds the `train` and `evaluate` sub-commands."""
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    train = sub.add_parser("train", help="train an adapter or a full fine-tune")
    train.add_argument("--config", type=Path, help="YAML file with the settings below")
    for name, (kind, help_text) in _TRAIN_FLAGS.items():
        train.add_argument("--" + name.replace("_", "-"), dest=name, type=kind, help=help_text)
    train.add_argument(
        "--resume", action="store_true", default=None, help="continue from OUTPUT/checkpoint"
    )
    train.add_argument("--no-progress", action="store_true")
    ev = sub.add_parser("evaluate", help="BLEU and chrF of a model on a test file")
    ev.add_argument("model", help="HF directory or hub id, LoRA adapter, or CT2 directory")
    ev.add_argument("--test", type=Path, required=True, help=".tsv or .jsonl test file")
    ev.add_argument("--directions", default="", help="default: every direction in the file")
    ev.add_argument("--base", default="", help="base model of an adapter (default: its config)")


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    import yaml

    values: dict[str, Any] = {}
    if args.config:
        loaded = yaml.safe_load(args.config.read_text("utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{args.config}: expected a mapping of settings")
        values.update({k.replace("-", "_"): v for k, v in loaded.items()})
    for name in [*_TRAIN_FLAGS, "resume"]:
        if getattr(args, name) is not None:
            values[name] = getattr(args, name)
    return values


def _train(args: argparse.Namespace) -> int:
    from dragoman.finetune.train import FinetuneConfig, finetune

    cfg = FinetuneConfig.from_mapping(_settings(args))
    result = finetune(cfg, progress=not args.no_progress)
    best = result.train.best_score
    print(
        f"wrote {result.output} after {result.train.steps} steps"
        + (f"; best dev chrF {best:.2f} at step {result.train.best_step}" if best else "")
    )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from dragoman.finetune.data import directions_of, parse_directions, read_rows
    from dragoman.finetune.evaluate import evaluate, translator_for

    rows = read_rows(args.test)
    directions = directions_of(rows, parse_directions(args.directions))
    scores = evaluate(translator_for(args.model, args.base), rows, directions)
    print(f"{'direction':<24} {'BLEU':>6} {'chrF':>6} {'n':>5}")
    for direction, s in scores.items():
        print(f"{direction:<24} {s.bleu:>6.2f} {s.chrf:>6.2f} {s.count:>5}")
    return 0


_ACTIONS = {"train": _train, "evaluate": _evaluate}


def run(args: argparse.Namespace) -> int:
    """Dispatches to the action; data and settings problems print one clear line."""
    from dragoman.finetune.data import DataError
    from dragoman.finetune.train import FinetuneError

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        return _ACTIONS[args.action](args)
    except (DataError, FinetuneError, ValueError) as exc:
        print(f"dragoman finetune: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a model that cannot be found or fetched, a file not there
        where = f" {exc.filename!r}" if exc.filename else ""
        print(f"dragoman finetune: cannot read{where}: {_first_line(exc)}", file=sys.stderr)
        return 1


def _first_line(error: BaseException) -> str:
    return (str(error.args[-1] if error.args else error).strip().splitlines() or ["?"])[0]
