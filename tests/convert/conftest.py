"""Tiny local Hugging Face models of both families (NLLB-200 and M2M100 conventions).

Real M2M100ForConditionalGeneration models with random weights and real tokenizers built
from a sentencepiece model trained here; no hub access. Built once per session.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

WORDS = [
    "the",
    "a",
    "cat",
    "dog",
    "house",
    "river",
    "small",
    "big",
    "red",
    "walks",
    "sees",
    "eats",
    "today",
    "near",
    "my",
    "friend",
    "book",
]
NLLB_CODES = ["eng_Latn", "fra_Latn", "deu_Latn"]
M2M100_CODES = ["en", "fr", "de"]


def _train_spm(directory: Path) -> Path:
    import sentencepiece as spm

    rng = random.Random(3)
    lines = [
        " ".join(rng.choices(WORDS, k=rng.randint(3, 9))).capitalize() + "." for _ in range(300)
    ]
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_prefix=str(directory / "spm"),
        vocab_size=120,
        model_type="bpe",
        character_coverage=1.0,
        num_threads=1,
        minloglevel=2,
    )
    path = directory / "sentencepiece.bpe.model"
    (directory / "spm.model").rename(path)
    (directory / "spm.vocab").unlink()
    return path


def _model(vocab_size: int, seed: int) -> Any:
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration

    config = M2M100Config(  # type: ignore[call-arg]
        vocab_size=vocab_size,
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=256,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        decoder_start_token_id=2,
        init_std=0.2,
    )
    torch.manual_seed(seed)
    return M2M100ForConditionalGeneration(config).eval()


def _nllb(directory: Path) -> Path:
    from dragoman.finetune.demo.build import nllb_tokenizer

    tokenizer = nllb_tokenizer(_train_spm(directory), NLLB_CODES)
    tokenizer.save_pretrained(directory)
    _model(len(tokenizer), 11).save_pretrained(directory)
    return directory


def _m2m100(directory: Path) -> Path:
    import sentencepiece as spm
    from transformers import M2M100Tokenizer

    spm_file = _train_spm(directory)
    processor = spm.SentencePieceProcessor(model_file=str(spm_file))
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for i in range(processor.get_piece_size()):
        vocab.setdefault(processor.id_to_piece(i), len(vocab))
    (directory / "vocab.json").write_text(json.dumps(vocab), "utf-8")
    tokenizer = M2M100Tokenizer(
        vocab_file=str(directory / "vocab.json"), spm_file=str(spm_file), num_madeup_words=8
    )
    tokenizer.save_pretrained(directory)
    # fairseq layout: pieces, then the 100 `__xx__` language tokens, then 8 filler words.
    _model(max(tokenizer.lang_token_to_id.values()) + 1 + 8, 12).save_pretrained(directory)
    return directory


TINY_BUILDERS = {"nllb": _nllb, "m2m100": _m2m100}


@pytest.fixture(scope="session")
def tiny_hf_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """family name -> a local HF model directory of that family."""
    import torch

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("tiny-hf")
    out = {}
    for family, build in TINY_BUILDERS.items():
        (root / family).mkdir()
        out[family] = build(root / family)
    return out
