"""Builds the demo model: corpus -> tokenizer -> tiny NLLB-architecture model -> CT2.

Everything is seeded, so the same recipe gives the same model; builds are cached under a
directory keyed by the recipe's hash.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dragoman.convert.metadata import METADATA_FILE, SENTENCEPIECE_FILE
from dragoman.finetune.demo import lexicon
from dragoman.finetune.demo.corpus import Corpus, CorpusSpec, Row, build_corpus, write_tsv
from dragoman.finetune.trainer import TrainConfig, encode_rows

logger = logging.getLogger(__name__)

RECIPE_VERSION = 1
DIRECTIONS: tuple[tuple[str, str], ...] = tuple(itertools.permutations(lexicon.CODES, 2))


@dataclass(frozen=True)
class ModelShape:
    """Size of the from-scratch M2M100 (NLLB architecture) model."""

    d_model: int = 128
    layers: int = 3
    heads: int = 4
    ffn_dim: int = 512
    dropout: float = 0.1
    max_positions: int = 256


@dataclass(frozen=True)
class DemoRecipe:
    """Everything that determines the demo model (its hash names the cache entry)."""

    corpus: CorpusSpec = field(default_factory=CorpusSpec)
    vocab_size: int = 800
    shape: ModelShape = field(default_factory=ModelShape)
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=2000,
            batch_size=64,
            learning_rate=3e-3,
            warmup_steps=200,
            label_smoothing=0.1,
            seed=7,
        )
    )
    quantization: str = "int8"
    threads: int = 1

    def digest(self) -> str:
        """A short hash of the recipe (and of the recipe format)."""
        data = json.dumps({"v": RECIPE_VERSION, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(data.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class DemoBuild:
    """A finished build: the HF checkpoint, the CT2 model and its held-out scores."""

    hf_dir: Path
    model_dir: Path
    corpus: Corpus
    scores: dict[str, dict[str, float]]


def nllb_tokenizer(spm_file: Path, language_codes: list[str], **kwargs: Any) -> Any:
    """A Hugging Face NllbTokenizer over the BPE sentencepiece model `spm_file`.

    Ids follow fairseq's convention: `<s> <pad> </s> <unk>` first, then the pieces in
    sentencepiece order; the language codes are special tokens.

    Args:
        spm_file: The sentencepiece model.
        language_codes: The tokenizer's language codes.
        **kwargs: More NllbTokenizer arguments (`src_lang`, `tgt_lang`).
    """
    import sentencepiece as spm
    from tokenizers.models import BPE
    from transformers import NllbTokenizer
    from transformers.convert_slow_tokenizer import SentencePieceExtractor

    extracted: Any = SentencePieceExtractor(str(spm_file)).extract(BPE)
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    processor = spm.SentencePieceProcessor(model_file=str(spm_file))
    for i in range(processor.get_piece_size()):
        vocab.setdefault(processor.id_to_piece(i), len(vocab))
    return NllbTokenizer(
        vocab=vocab, merges=extracted["merges"], extra_special_tokens=language_codes, **kwargs
    )


def train_tokenizer(rows: list[Row], vocab_size: int, directory: Path) -> Any:
    """Trains a BPE sentencepiece model and wraps it as a Hugging Face NllbTokenizer.

    The language codes are user-defined symbols of the sentencepiece model and special
    tokens of the HF tokenizer, so both give the same ids.
    """
    import sentencepiece as spm

    directory.mkdir(parents=True, exist_ok=True)
    prefix = directory / "spm"
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter([row[c] for row in rows for c in lexicon.CODES]),
        model_prefix=str(prefix),
        vocab_size=vocab_size,
        model_type="bpe",
        character_coverage=1.0,
        user_defined_symbols=list(lexicon.CODES),
        num_threads=1,
        shuffle_input_sentence=False,
        minloglevel=2,
    )
    spm_file = directory / SENTENCEPIECE_FILE
    shutil.move(f"{prefix}.model", spm_file)
    os.remove(f"{prefix}.vocab")
    tokenizer = nllb_tokenizer(
        spm_file, list(lexicon.CODES), src_lang=lexicon.ENG, tgt_lang=lexicon.QAA
    )
    processor = spm.SentencePieceProcessor(model_file=str(spm_file))
    for row in rows[:2000]:
        for text in row.values():
            if tokenizer.tokenize(text) != processor.encode_as_pieces(text):
                raise RuntimeError(f"HF and sentencepiece tokenize {text!r} differently")
    return tokenizer


def new_model(shape: ModelShape, vocab_size: int, seed: int) -> Any:
    """A randomly initialized M2M100ForConditionalGeneration with NLLB token ids."""
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration

    config = M2M100Config(  # type: ignore[call-arg]
        vocab_size=vocab_size,
        d_model=shape.d_model,
        encoder_layers=shape.layers,
        decoder_layers=shape.layers,
        encoder_attention_heads=shape.heads,
        decoder_attention_heads=shape.heads,
        encoder_ffn_dim=shape.ffn_dim,
        decoder_ffn_dim=shape.ffn_dim,
        dropout=shape.dropout,
        attention_dropout=0.0,
        activation_dropout=0.0,
        max_position_embeddings=shape.max_positions,
        scale_embedding=True,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        decoder_start_token_id=2,
        tokenizer_class="NllbTokenizer",
        init_std=shape.d_model**-0.5,
    )
    torch.manual_seed(seed)
    model = M2M100ForConditionalGeneration(config)
    # fairseq-like init, N(0, d^-1/2): HF's default std of 0.02 is far too small for d=128
    # (near-uniform attention for a long time; embeddings drowned by the positions).
    with torch.no_grad():
        model.model.shared.weight.normal_(0.0, shape.d_model**-0.5)
        model.model.shared.weight[config.pad_token_id].zero_()
    return model


def evaluate_model_dir(
    model_dir: Path,
    rows: list[Row],
    directions: tuple[tuple[str, str], ...] = DIRECTIONS,
    threads: int = 1,
) -> dict[str, dict[str, float]]:
    """Scores a CT2 model directory on multi-parallel rows, per direction."""
    from dragoman.convert.translate import PairCodec, ct2_translate, load_ct2
    from dragoman.engine.families import get_family
    from dragoman.finetune.metrics import score
    from transformers import AutoTokenizer

    codec = PairCodec(AutoTokenizer.from_pretrained(str(model_dir)), get_family("demo"))
    translator = load_ct2(model_dir, threads=threads)
    scores = {}
    for src, tgt in directions:
        hyps = ct2_translate(translator, codec, [r[src] for r in rows], src, tgt)
        scores[f"{src}-{tgt}"] = score(hyps, [r[tgt] for r in rows]).as_dict()
    return scores


def _train_hf(recipe: DemoRecipe, corpus: Corpus, hf_dir: Path, progress: bool) -> Any:
    import torch
    from dragoman.convert.translate import PairCodec
    from dragoman.engine.families import get_family
    from dragoman.finetune.trainer import Trainer

    torch.set_num_threads(recipe.threads)
    tokenizer = train_tokenizer(corpus.train, recipe.vocab_size, hf_dir)
    model = new_model(recipe.shape, len(tokenizer), recipe.train.seed)
    codec = PairCodec(tokenizer, get_family("demo"))
    Trainer(
        model, encode_rows(codec, corpus.train, DIRECTIONS), recipe.train, progress=progress
    ).train()
    model.save_pretrained(hf_dir)
    tokenizer.save_pretrained(hf_dir)
    return model


def build_demo(
    work_dir: Path,
    recipe: DemoRecipe | None = None,
    *,
    progress: bool = True,
    say: Callable[[str], None] = logger.info,
) -> DemoBuild:
    """Builds (or reuses) the demo model under `work_dir` (hf/, model/, data/)."""
    from dragoman.convert.converter import ConvertRequest, convert
    from dragoman.convert.parity import samples_from_rows

    recipe = recipe or DemoRecipe()
    corpus = build_corpus(recipe.corpus)
    hf_dir, model_dir, data_dir = work_dir / "hf", work_dir / "model", work_dir / "data"
    if (model_dir / METADATA_FILE).is_file():
        scores = json.loads((model_dir / METADATA_FILE).read_text("utf-8"))["demo"]["test"]
        return DemoBuild(hf_dir, model_dir, corpus, scores)
    data_dir.mkdir(parents=True, exist_ok=True)
    for split in ("train", "dev", "test"):
        write_tsv(corpus.split(split), data_dir / f"{split}.tsv")
    if not (hf_dir / "model.safetensors").is_file():
        say(f"training the demo model (recipe {recipe.digest()})")
        _train_hf(recipe, corpus, hf_dir, progress)
    say("converting to CTranslate2")
    convert(
        ConvertRequest(
            model=str(hf_dir),
            output=model_dir,
            quantization=recipe.quantization,
            force=True,
            name="demo",
            family="demo",
            languages=[dict(lang) for lang in lexicon.LANGUAGES],
            samples=samples_from_rows(corpus.test, limit=100),
            check_threshold=0.99,
            extra_files={"lexicon.json": json.dumps(lexicon.as_dict(), indent=1).encode()},
            extra_metadata={"demo": {"recipe": recipe.digest(), "lexicon": "lexicon.json"}},
        ),
        progress=say,
    )
    scores = evaluate_model_dir(model_dir, corpus.test, threads=recipe.threads)
    meta_path = model_dir / METADATA_FILE
    meta = json.loads(meta_path.read_text("utf-8"))
    meta["demo"]["test"] = scores
    tmp = meta_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", "utf-8")
    tmp.replace(meta_path)
    return DemoBuild(hf_dir, model_dir, corpus, scores)
