"""A small seq2seq training loop: fixed seeds, progress bar, eval, early stopping, resume.

Used by the demo model build and by `dragoman finetune` (full fine-tuning and LoRA: only
parameters with `requires_grad` are optimized, checkpointed and restored).
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

Pair = tuple[list[int], list[int]]  # (source ids, target ids incl. language prefix and </s>)
CHECKPOINT_FILE = "trainer_state.pt"


@dataclass(frozen=True)
class TrainConfig:
    """Optimization settings.

    Attributes:
        epochs: Passes over the data (used when `steps` is 0).
        steps: Optimizer steps; overrides `epochs` when > 0.
        batch_size: Sequence pairs per forward pass.
        grad_accum: Forward passes per optimizer step.
        learning_rate: Peak learning rate (linear warmup, then linear decay).
        warmup_steps: Steps of linear warmup.
        weight_decay: AdamW weight decay.
        label_smoothing: Cross-entropy label smoothing.
        max_grad_norm: Gradient clipping norm.
        eval_every: Run the eval callback every N steps (0: only at the end).
        patience: Stop after this many evals without improvement (0: never).
        seed: Seed of shuffling and initialization.
    """

    epochs: float = 1.0
    steps: int = 0
    batch_size: int = 32
    grad_accum: int = 1
    learning_rate: float = 1e-3
    warmup_steps: int = 100
    weight_decay: float = 0.0
    label_smoothing: float = 0.1
    max_grad_norm: float = 1.0
    eval_every: int = 0
    patience: int = 0
    seed: int = 1


@dataclass
class TrainResult:
    """What a training run did."""

    steps: int
    final_loss: float
    best_score: float | None = None
    best_step: int | None = None
    stopped_early: bool = False
    evals: list[tuple[int, float]] = field(default_factory=list)


def encode_rows(
    codec: Any, rows: Sequence[dict[str, str]], directions: Sequence[tuple[str, str]]
) -> list[Pair]:
    """Training pairs for every direction of every (multi-)parallel row that has both sides.

    Args:
        codec: A `dragoman.convert.translate.PairCodec`.
        rows: Rows mapping language codes to sentences.
        directions: (source, target) code pairs.
    """
    pairs = []
    for row in rows:
        for src, tgt in directions:
            if src in row and tgt in row:
                source = codec.ids(codec.source_tokens(row[src], src))
                pairs.append((source, codec.ids(codec.target_tokens(row[tgt], tgt))))
    return pairs


def batches(pairs: Sequence[Pair], batch_size: int, rng: random.Random) -> list[list[Pair]]:
    """One epoch of batches: shuffled, grouped by length to limit padding."""
    order = list(pairs)
    rng.shuffle(order)
    out: list[list[Pair]] = []
    chunk = batch_size * 50
    for i in range(0, len(order), chunk):
        group = sorted(order[i : i + chunk], key=lambda p: (len(p[0]), len(p[1])))
        out += [group[j : j + batch_size] for j in range(0, len(group), batch_size)]
    rng.shuffle(out)
    return out


def collate(batch: Sequence[Pair], pad_id: int, start_id: int) -> dict[str, Any]:
    """Pads a batch into model inputs; labels are -100 on padding."""
    import torch

    src_len = max(len(s) for s, _ in batch)
    tgt_len = max(len(t) for _, t in batch)
    input_ids = [s + [pad_id] * (src_len - len(s)) for s, _ in batch]
    mask = [[1] * len(s) + [0] * (src_len - len(s)) for s, _ in batch]
    labels = [t + [-100] * (tgt_len - len(t)) for _, t in batch]
    decoder = [[start_id, *t[:-1]] + [pad_id] * (tgt_len - len(t)) for _, t in batch]
    return {
        "input_ids": torch.tensor(input_ids),
        "attention_mask": torch.tensor(mask),
        "decoder_input_ids": torch.tensor(decoder),
        "labels": torch.tensor(labels),
    }


def _trainable(model: Any) -> dict[str, Any]:
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


class Trainer:
    """Trains `model` on `pairs`.

    Args:
        model: A Hugging Face seq2seq model (optionally wrapped by peft).
        pairs: Encoded training pairs.
        config: Optimization settings.
        evaluate: Returns a score to maximize (dev chrF); called every `eval_every` steps.
        checkpoint_dir: Where to save resumable state at each eval (None: no checkpoints).
        progress: Show a tqdm progress bar.
    """

    def __init__(
        self,
        model: Any,
        pairs: Sequence[Pair],
        config: TrainConfig,
        *,
        evaluate: Callable[[Any], float] | None = None,
        checkpoint_dir: Path | None = None,
        progress: bool = True,
    ) -> None:
        import torch

        self.model, self.pairs, self.config = model, list(pairs), config
        self.evaluate, self.checkpoint_dir, self.progress = evaluate, checkpoint_dir, progress
        cfg = model.config
        self.pad_id = int(cfg.pad_token_id)
        self.start_id = int(cfg.decoder_start_token_id)
        per_epoch = math.ceil(len(self.pairs) / config.batch_size / config.grad_accum)
        self.total_steps = config.steps or max(1, math.ceil(per_epoch * config.epochs))
        params = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(
            params, lr=config.learning_rate, weight_decay=config.weight_decay
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self._lr_factor)
        self.rng = random.Random(config.seed)
        self.step = 0
        self.result = TrainResult(steps=0, final_loss=math.nan)
        self._best_state: dict[str, Any] | None = None
        self._stale = 0

    def _lr_factor(self, step: int) -> float:
        warm = self.config.warmup_steps
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (self.total_steps - step) / max(1, self.total_steps - warm))

    def _batches(self) -> Any:
        while True:
            yield from batches(self.pairs, self.config.batch_size, self.rng)

    def _loss(self, batch: list[Pair]) -> Any:
        import torch

        inputs = collate(batch, self.pad_id, self.start_id)
        labels = inputs.pop("labels")
        logits = self.model(**inputs).logits
        return torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.size(-1)),
            labels.reshape(-1),
            ignore_index=-100,
            label_smoothing=self.config.label_smoothing,
        )

    def train(self) -> TrainResult:
        """Runs until `total_steps`, or until early stopping; restores the best weights."""
        import torch
        from tqdm import tqdm

        stream = self._batches()
        for _ in range(self.step * self.config.grad_accum):
            next(stream)  # a resumed run sees the batches it has not seen yet
        bar = tqdm(
            total=self.total_steps,
            initial=self.step,
            disable=not self.progress,
            desc="training",
            unit="step",
        )
        self.model.train()
        while self.step < self.total_steps:
            self.optimizer.zero_grad()
            total = 0.0
            for _ in range(self.config.grad_accum):
                loss = self._loss(next(stream)) / self.config.grad_accum
                loss.backward()
                total += float(loss.detach())
            params = [p for p in self.model.parameters() if p.requires_grad]
            torch.nn.utils.clip_grad_norm_(params, self.config.max_grad_norm)
            self.optimizer.step()
            self.scheduler.step()
            self.step += 1
            self.result.final_loss = total
            bar.update(1)
            bar.set_postfix(loss=f"{total:.3f}")
            every = self.config.eval_every
            if self.evaluate and every and self.step % every == 0 and self._eval_and_stop(bar):
                self.result.stopped_early = True
                break
        bar.close()
        if (
            self.evaluate
            and not self.result.stopped_early
            and self.step % (self.config.eval_every or self.total_steps + 1)
        ):
            self._eval_and_stop(None)
        if self._best_state is not None:
            self.model.load_state_dict(self._best_state, strict=False)
        self.model.eval()
        self.result.steps = self.step
        return self.result

    def _eval_and_stop(self, bar: Any) -> bool:
        assert self.evaluate is not None
        score = float(self.evaluate(self.model))
        self.model.train()
        self.result.evals.append((self.step, score))
        logger.info("step %d: dev score %.2f", self.step, score)
        if bar is not None:
            bar.write(f"step {self.step}: dev chrF {score:.2f}")
        if self.result.best_score is None or score > self.result.best_score:
            self.result.best_score, self.result.best_step = score, self.step
            self._best_state = _trainable(self.model)
            self._stale = 0
        else:
            self._stale += 1
        if self.checkpoint_dir is not None:
            self.save_checkpoint(self.checkpoint_dir)
        return bool(self.config.patience) and self._stale >= self.config.patience

    def save_checkpoint(self, directory: Path) -> Path:
        """Saves everything needed to resume (trainable weights, optimizer, counters)."""
        import torch

        directory.mkdir(parents=True, exist_ok=True)
        path = directory / CHECKPOINT_FILE
        tmp = path.with_suffix(".tmp")
        torch.save(
            {
                "config": asdict(self.config),
                "step": self.step,
                "weights": _trainable(self.model),
                "best_state": self._best_state,
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "result": asdict(self.result),
                "stale": self._stale,
            },
            tmp,
        )
        tmp.replace(path)
        return path

    def load_checkpoint(self, directory: Path) -> bool:
        """Restores state saved by `save_checkpoint`; False when there is none."""
        import torch

        path = directory / CHECKPOINT_FILE
        if not path.is_file():
            return False
        state = torch.load(path, weights_only=False)
        self.model.load_state_dict(state["weights"], strict=False)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step = int(state["step"])
        self._best_state = state["best_state"]
        self._stale = int(state["stale"])
        self.result = TrainResult(**state["result"])
        logger.info("resumed from %s at step %d", path, self.step)
        return True
