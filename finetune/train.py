"""LoRA, QLoRA and full fine-tuning of seq2seq translation models on parallel files."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from dragoman.finetune.data import DataError, directions_of, parse_directions, read_rows
from dragoman.finetune.trainer import TrainConfig, Trainer, TrainResult, encode_rows

logger = logging.getLogger(__name__)

METHODS = ("lora", "qlora", "full")
DEFAULT_TARGETS = ("q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2")


class FinetuneError(Exception):
    """Fine-tuning cannot start; the message says why and what to do."""


@dataclass(frozen=True)
class FinetuneConfig:
    """A fine-tuning run (YAML keys and CLI flags have these names)."""

    model: str
    train: str
    output: str
    dev: str = ""
    method: str = "lora"
    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: tuple[str, ...] = DEFAULT_TARGETS
    directions: str = ""
    epochs: float = 3.0
    steps: int = 0
    batch_size: int = 16
    grad_accum: int = 1
    learning_rate: float = 1e-3
    warmup_steps: int = 50
    label_smoothing: float = 0.1
    eval_every: int = 0
    patience: int = 0
    dev_size: int = 200
    seed: int = 1
    threads: int = 0
    resume: bool = False

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> FinetuneConfig:
        """Builds a config from YAML/flag values, rejecting unknown keys."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise FinetuneError(f"unknown setting(s) {unknown}; known: {', '.join(sorted(names))}")
        missing = [n for n in ("model", "train", "output") if not values.get(n)]
        if missing:
            raise FinetuneError(f"missing required setting(s): {', '.join(missing)}")
        data = dict(values)
        if isinstance(data.get("target_modules"), str):
            data["target_modules"] = tuple(filter(None, data["target_modules"].split(",")))
        if data.get("method", "lora") not in METHODS:
            raise FinetuneError(f"unknown method {data['method']!r}; choose one of {METHODS}")
        return cls(**data)

    def train_config(self) -> TrainConfig:
        """The optimizer settings of this run."""
        return TrainConfig(
            epochs=self.epochs,
            steps=self.steps,
            batch_size=self.batch_size,
            grad_accum=self.grad_accum,
            learning_rate=self.learning_rate,
            warmup_steps=self.warmup_steps,
            label_smoothing=self.label_smoothing,
            eval_every=self.eval_every,
            patience=self.patience,
            seed=self.seed,
        )


@dataclass
class FinetuneResult:
    """Where the result went and how training went."""

    output: Path
    train: TrainResult
    directions: list[tuple[str, str]] = field(default_factory=list)


def _load_model(cfg: FinetuneConfig) -> Any:
    import torch
    from transformers import AutoModelForSeq2SeqLM

    if cfg.method != "qlora":
        return AutoModelForSeq2SeqLM.from_pretrained(cfg.model)
    if not torch.cuda.is_available():
        raise FinetuneError(
            "QLoRA (4-bit) needs a CUDA GPU and bitsandbytes; no CUDA device is available "
            "here. Use --method lora (same adapters, full-precision base) on this machine."
        )
    try:
        from transformers import BitsAndBytesConfig
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise FinetuneError("QLoRA needs bitsandbytes: pip install bitsandbytes") from exc
    from peft import prepare_model_for_kbit_training

    quant = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_compute_dtype=torch.bfloat16,
        bnb_4bit_use_double_quant=True,
    )
    model = AutoModelForSeq2SeqLM.from_pretrained(cfg.model, quantization_config=quant)
    return prepare_model_for_kbit_training(model)


def _no_layerdrop(model: Any) -> None:
    # LayerDrop skips whole layers at random: on a small set it only adds noise, and a step
    # that skips every LoRA-carrying layer has nothing to train (backward() then fails).
    for name in ("encoder_layerdrop", "decoder_layerdrop"):
        if hasattr(model.config, name):
            setattr(model.config, name, 0.0)
    for module in model.modules():
        if hasattr(module, "layerdrop"):
            module.layerdrop = 0.0


def _wrap(model: Any, cfg: FinetuneConfig) -> Any:
    _no_layerdrop(model)
    if cfg.method == "full":
        return model
    from peft import LoraConfig, TaskType, get_peft_model

    lora = LoraConfig(
        task_type=TaskType.SEQ_2_SEQ_LM,
        r=cfg.r,
        lora_alpha=cfg.alpha,
        lora_dropout=cfg.dropout,
        target_modules=list(cfg.target_modules),
    )
    return get_peft_model(model, lora)


def finetune(cfg: FinetuneConfig, progress: bool = True) -> FinetuneResult:
    """Validates the data, trains, and saves an adapter (LoRA) or a model (full).

    Raises:
        DataError: A data file is unusable (raised before any training).
        FinetuneError: Bad settings, or QLoRA without a GPU.
    """
    import torch
    from dragoman.convert.translate import full_vocabulary
    from dragoman.finetune.evaluate import _codec, evaluate
    from transformers import AutoTokenizer

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    codec = _codec(AutoTokenizer.from_pretrained(cfg.model))
    vocabulary = full_vocabulary(codec.tokenizer)
    known = {lang.code for lang in codec.family.languages_from_vocabulary(vocabulary)}
    train_rows = read_rows(cfg.train, known)
    dev_rows = read_rows(cfg.dev, known)[: cfg.dev_size] if cfg.dev else []
    directions = directions_of(train_rows, parse_directions(cfg.directions))
    if cfg.eval_every and not dev_rows:
        raise DataError("--eval-every needs a --dev file to score")
    pairs = encode_rows(codec, train_rows, directions)
    torch.manual_seed(cfg.seed)
    model = _wrap(_load_model(cfg), cfg)

    def dev_chrf(m: Any) -> float:
        from dragoman.convert.translate import hf_translate

        fn = lambda texts, s, t: hf_translate(m, codec, texts, s, t)  # noqa: E731
        scores = evaluate(fn, dev_rows, directions)
        return sum(s.chrf for s in scores.values()) / len(scores)

    output = Path(cfg.output)
    trainer = Trainer(
        model,
        pairs,
        cfg.train_config(),
        evaluate=dev_chrf if dev_rows else None,
        checkpoint_dir=output / "checkpoint",
        progress=progress,
    )
    if cfg.resume and not trainer.load_checkpoint(output / "checkpoint"):
        logger.info("no checkpoint in %s; starting from scratch", output / "checkpoint")
    result = trainer.train()
    _save(model, codec.tokenizer, cfg, output)
    (output / "finetune.json").write_text(
        json.dumps({"config": asdict(cfg), "result": asdict(result)}, indent=2) + "\n", "utf-8"
    )
    return FinetuneResult(output=output, train=result, directions=directions)


def _save(model: Any, tokenizer: Any, cfg: FinetuneConfig, output: Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output)
    if cfg.method == "full":
        tokenizer.save_pretrained(output)
        from dragoman.convert.converter import find_sentencepiece

        spm = find_sentencepiece(cfg.model)
        if spm is not None:
            shutil.copyfile(spm, output / spm.name)
