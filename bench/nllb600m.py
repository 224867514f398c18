"""An NLLB-200-distilled-600M-shaped model that `dragoman serve` can load, built offline.

    .venv/bin/python bench/nllb600m.py            # builds it once (about 2 minutes)

No hub is reachable, so the model is made here: a small BPE sentencepiece model trained
on generated English, with the 202 NLLB language codes and filler user-defined symbols
so that the vocabulary has NLLB's size (256,206 with the tokenizer's specials); an M2M100
config of NLLB-600M's shape (d_model 1024, 12+12 layers, 16 heads, FFN 4096) with random
weights from a fixed seed; converted by `dragoman convert` (int8). The result is cached
under .cache/bench/, so reruns cost nothing. Random weights never emit `</s>`: the
benchmarks fix each decode's length (max_output_tokens served, min = max offline).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "bench" / "nllb600m-served"
#: NLLB's tokenizer length (sentencepiece pieces, fairseq specials, codes, <mask>).
NLLB_VOCABULARY = 256_206
BPE_PIECES = 600
SEED = 1234
# facebook/nllb-200-distilled-600M's shape (vocab_size comes from the tokenizer).
SHAPE = dict(
    d_model=1024, encoder_layers=12, decoder_layers=12, encoder_attention_heads=16,
    decoder_attention_heads=16, encoder_ffn_dim=4096, decoder_ffn_dim=4096,
    max_position_embeddings=1024, scale_embedding=True, activation_function="relu",
    pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2,
)  # fmt: skip


def english(count: int, seed: int = 7) -> list[str]:
    """Generated English sentences (the demo grammar's)."""
    from dragoman.finetune.demo import grammar

    sampler = grammar.ClauseSampler(seed=seed)
    return [grammar.realize(sampler.sample())["eng_Latn"] for _ in range(count)]


def _tokenizer(work: Path, codes: list[str]) -> object:
    """A BPE sentencepiece model padded to NLLB's vocabulary size, as an NllbTokenizer."""
    import sentencepiece
    from dragoman.finetune.demo.build import nllb_tokenizer

    corpus = work / "corpus.txt"
    corpus.write_text("\n".join(english(20_000)) + "\n", encoding="utf-8")
    # The fairseq specials are sentencepiece's ids 0-3; <mask> comes on top.
    size = NLLB_VOCABULARY - 1
    fillers = [f"<x{i:06d}>" for i in range(size - BPE_PIECES - len(codes))]
    sentencepiece.SentencePieceTrainer.Train(
        input=str(corpus), model_prefix=str(work / "spm"), vocab_size=size, model_type="bpe",
        user_defined_symbols=codes + fillers, bos_id=0, pad_id=1, eos_id=2, unk_id=3,
        character_coverage=1.0, num_threads=2, minloglevel=2, hard_vocab_limit=False,
    )  # fmt: skip
    return nllb_tokenizer(work / "spm.model", codes, src_lang="eng_Latn", tgt_lang="fra_Latn")


def build(output: Path = CACHE / "ct2") -> Path:
    """The converted model directory, built unless cached."""
    if (output / "model.bin").is_file() and (output / "dragoman.json").is_file():
        return output
    import torch
    import transformers
    from dragoman.engine.families.nllb import nllb_languages

    work = output.parent / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    codes = [lang.code for lang in nllb_languages()]
    tokenizer = _tokenizer(work, codes)
    hf = work / "hf"
    tokenizer.save_pretrained(hf)  # type: ignore[attr-defined]
    shutil.copy(work / "spm.model", hf / "sentencepiece.bpe.model")  # what dragoman serves
    torch.manual_seed(SEED)
    config = transformers.M2M100Config(vocab_size=len(tokenizer), **SHAPE)  # type: ignore[arg-type]
    transformers.M2M100ForConditionalGeneration(config).save_pretrained(hf)
    print(f"vocabulary {len(tokenizer):,} entries; converting (int8)...", flush=True)  # type: ignore[arg-type]
    subprocess.run(
        [sys.executable, "-m", "dragoman.cli", "convert", str(hf), "--output", str(output),
         "--quantization", "int8", "--no-parity", "--force", "--name", "nllb600m-random"],
        check=True,
    )  # fmt: skip
    shutil.rmtree(work)
    return output


def main() -> None:
    path = build()
    manifest = json.loads((path / "dragoman.json").read_text(encoding="utf-8"))
    print(f"{path}: family {manifest['family']}, {len(manifest['languages'])} languages")


if __name__ == "__main__":
    main()
