"""Score a model (HF directory or hub id, LoRA adapter, or CTranslate2 directory) on a test file."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from dragoman.finetune.data import Direction, Row
from dragoman.finetune.metrics import Scores, score

TranslateFn = Callable[[Sequence[str], str, str], list[str]]


def _codec(tokenizer: Any, family_name: str = "") -> Any:
    from dragoman.convert.metadata import detect_family
    from dragoman.convert.translate import PairCodec, full_vocabulary

    vocabulary = full_vocabulary(tokenizer)
    return PairCodec(tokenizer, detect_family(vocabulary, family_name))


def load_hf(path: str, base: str = "") -> tuple[Any, Any]:
    """Loads an HF model (merging a LoRA adapter when `path` is one) and its tokenizer."""
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    adapter_config = Path(path) / "adapter_config.json"
    if adapter_config.is_file():
        from peft import PeftModel

        base = base or json.loads(adapter_config.read_text("utf-8"))["base_model_name_or_path"]
        model = AutoModelForSeq2SeqLM.from_pretrained(base)
        model = PeftModel.from_pretrained(model, path).merge_and_unload()
        tokenizer = AutoTokenizer.from_pretrained(base)
    else:
        model = AutoModelForSeq2SeqLM.from_pretrained(path)
        tokenizer = AutoTokenizer.from_pretrained(path)
    model.eval()
    return model, tokenizer


def translator_for(path: str, base: str = "", threads: int = 1) -> TranslateFn:
    """A greedy translate function for a CT2 directory, a LoRA adapter or an HF model."""
    from dragoman.convert.metadata import read_metadata
    from dragoman.convert.translate import ct2_translate, hf_translate, load_ct2
    from transformers import AutoTokenizer

    if (Path(path) / "model.bin").is_file():
        codec = _codec(
            AutoTokenizer.from_pretrained(path), read_metadata(Path(path)).get("family", "")
        )
        translator = load_ct2(Path(path), threads=threads)
        return lambda texts, s, t: ct2_translate(translator, codec, texts, s, t)
    model, tokenizer = load_hf(path, base)
    codec = _codec(tokenizer)
    return lambda texts, s, t: hf_translate(model, codec, texts, s, t)


def evaluate(
    translate: TranslateFn, rows: Sequence[Row], directions: Sequence[Direction]
) -> dict[str, Scores]:
    """Scores every direction on the rows that have both of its languages."""
    results = {}
    for source, target in directions:
        usable = [r for r in rows if source in r and target in r]
        hyps = translate([r[source] for r in usable], source, target)
        results[f"{source}-{target}"] = score(hyps, [r[target] for r in usable])
    return results
