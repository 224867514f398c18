"""CTranslate2 int8 vs Hugging Face transformers `generate`, same model, fixed output length.

    .venv/bin/python bench/engine_vs_hf.py [--batch-size 8] [--new-tokens 32] [--threads 2]

Builds an NLLB-200-distilled-600M-shaped model (M2M100 architecture: d_model 1024,
12+12 layers, 16 heads, FFN 4096, 256,206-token vocabulary) with random weights from
a fixed seed, converts it once with CTranslate2's converter (int8; cached under
.cache/bench/), and times greedy decoding of the same random source batches on both,
every example forced to exactly `--new-tokens` new tokens (min = max), so that both
do the same amount of work whatever the weights say. Prints tokens/s side by side and
the ratio (the issue's target: >= 4x). With transformers 5 on CPU, `generate` costs
several times more per step than the model's forward pass, so the script also times a
hand-written greedy loop with the KV cache: the strongest plain-transformers baseline,
and the fairer ratio. No downloads: nothing here touches the hub.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "bench" / "nllb600m-random"
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]

# facebook/nllb-200-distilled-600M's shape.
NLLB_600M = dict(
    vocab_size=256206, d_model=1024, encoder_layers=12, decoder_layers=12,
    encoder_attention_heads=16, decoder_attention_heads=16, encoder_ffn_dim=4096,
    decoder_ffn_dim=4096, max_position_embeddings=1024, scale_embedding=True,
    activation_function="relu", pad_token_id=1, bos_token_id=0, eos_token_id=2,
    decoder_start_token_id=2,
)  # fmt: skip


class _VocabTokenizer:
    """What CTranslate2's M2M100 loader reads from a tokenizer: the vocabulary."""

    bos_token, pad_token, eos_token, unk_token = SPECIALS[0], SPECIALS[1], SPECIALS[2], "<unk>"
    unk_token_id = 3

    def __init__(self, size: int) -> None:
        self._tokens = SPECIALS + [f"tok{i}" for i in range(len(SPECIALS), size)]
        self.special_tokens_map: dict[str, list[str]] = {}

    def get_vocab(self) -> dict[str, int]:
        return {token: i for i, token in enumerate(self._tokens)}

    def convert_ids_to_tokens(self, index: int) -> str:
        return self._tokens[index]


def build_hf_model(seed: int) -> Any:
    """The random-weight HF model (float32, eval mode)."""
    import torch
    import transformers

    torch.manual_seed(seed)
    config = transformers.M2M100Config(**NLLB_600M)
    model = transformers.M2M100ForConditionalGeneration(config)
    return model.eval()


def convert(model: Any, output: Path) -> None:
    """CTranslate2's own converter, fed the in-memory model (nothing written but the result)."""
    import ctranslate2

    config_dir = output.parent / "hf-config"
    model.config.save_pretrained(config_dir)

    class Converter(ctranslate2.converters.TransformersConverter):
        def load_model(self, model_class: Any, path: str, **kwargs: Any) -> Any:
            return model

        def load_tokenizer(self, tokenizer_class: Any, path: str, **kwargs: Any) -> Any:
            return _VocabTokenizer(model.config.vocab_size)

    Converter(str(config_dir)).convert(str(output), quantization="int8", force=True)


def source_batches(args: argparse.Namespace) -> list[list[list[int]]]:
    """Random source token ids (no specials), ending with </s>, fixed lengths."""
    import random

    rng = random.Random(args.seed)
    return [
        [[rng.randrange(4, NLLB_600M["vocab_size"]) for _ in range(args.source_tokens - 1)] + [2]
         for _ in range(args.batch_size)]
        for _ in range(args.repeats)
    ]  # fmt: skip


def time_ct2(model_dir: Path, batches: list[list[list[int]]], args: argparse.Namespace) -> float:
    """Tokens/s of CTranslate2 greedy decoding, exactly `new_tokens` per example."""
    import ctranslate2

    translator = ctranslate2.Translator(
        str(model_dir), device="cpu", compute_type=args.ct2_compute_type,
        intra_threads=args.threads, inter_threads=1,
    )  # fmt: skip
    vocab = _VocabTokenizer(NLLB_600M["vocab_size"])._tokens

    def run(batch: list[list[int]]) -> int:
        results = translator.translate_batch(
            [[vocab[i] for i in ids] for ids in batch], beam_size=1,
            min_decoding_length=args.new_tokens, max_decoding_length=args.new_tokens,
            max_input_length=0,
        )  # fmt: skip
        return sum(len(r.hypotheses[0]) for r in results)

    run(batches[0])  # warm-up
    started = time.perf_counter()
    produced = sum(run(batch) for batch in batches)
    seconds = time.perf_counter() - started
    assert produced == args.new_tokens * args.batch_size * len(batches), produced
    return produced / seconds


def time_hf(model: Any, batches: list[list[list[int]]], args: argparse.Namespace) -> float:
    """Tokens/s of transformers `generate` (greedy, KV cache), exactly `new_tokens` per example."""
    import torch

    def run(batch: list[list[int]]) -> int:
        with torch.inference_mode():
            out = model.generate(
                input_ids=torch.tensor(batch), attention_mask=torch.ones(len(batch), len(batch[0])),
                num_beams=1, do_sample=False, min_new_tokens=args.new_tokens,
                max_new_tokens=args.new_tokens,
            )  # fmt: skip
        return int((out.shape[1] - 1) * out.shape[0])  # minus the decoder start token

    run(batches[0])
    started = time.perf_counter()
    produced = sum(run(batch) for batch in batches)
    seconds = time.perf_counter() - started
    assert produced == args.new_tokens * args.batch_size * len(batches), produced
    return produced / seconds


def time_hf_loop(model: Any, batches: list[list[list[int]]], args: argparse.Namespace) -> float:
    """Tokens/s of a hand-written greedy loop on the HF model (encoder once, KV cache).

    The strongest plain-transformers baseline: no `generate` machinery per step.
    """
    import torch

    def run(batch: list[list[int]]) -> int:
        with torch.inference_mode():
            encoded = model.get_encoder()(input_ids=torch.tensor(batch))
            tokens = torch.full((len(batch), 1), model.config.decoder_start_token_id)
            past = None
            for _ in range(args.new_tokens):
                out = model(encoder_outputs=encoded, decoder_input_ids=tokens[:, -1:],
                            past_key_values=past, use_cache=True)  # fmt: skip
                past = out.past_key_values
                tokens = torch.cat([tokens, out.logits[:, -1].argmax(-1, keepdim=True)], dim=1)
        return int((tokens.shape[1] - 1) * tokens.shape[0])

    run(batches[0])
    started = time.perf_counter()
    produced = sum(run(batch) for batch in batches)
    return produced / (time.perf_counter() - started)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--source-tokens", type=int, default=32)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="timed batches per engine")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--ct2-compute-type", default="int8")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    return parser.parse_args()


def main() -> None:
    """Builds (or reuses) the model, times both engines, prints the comparison."""
    import torch

    args = parse_args()
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    model = build_hf_model(args.seed)
    print(f"built random NLLB-600M-shaped model in {time.perf_counter() - started:.0f}s "
          f"({sum(p.numel() for p in model.parameters()) / 1e6:.0f}M parameters)")  # fmt: skip
    ct2_dir = CACHE / f"ct2-int8-seed{args.seed}"
    if not (ct2_dir / "model.bin").is_file():
        started = time.perf_counter()
        convert(model, ct2_dir)
        print(f"converted to CTranslate2 int8 in {time.perf_counter() - started:.0f}s")
    batches = source_batches(args)
    ct2 = time_ct2(ct2_dir, batches, args)
    hf = time_hf(model, batches, args)
    loop = time_hf_loop(model, batches, args)
    figures = {
        "batch_size": args.batch_size, "source_tokens": args.source_tokens,
        "new_tokens": args.new_tokens, "threads": args.threads,
        "ct2_compute_type": args.ct2_compute_type, "ct2_tokens_per_s": round(ct2, 1),
        "hf_fp32_tokens_per_s": round(hf, 1), "ratio": round(ct2 / hf, 2),
        "hf_fp32_greedy_loop_tokens_per_s": round(loop, 1),
        "ratio_vs_greedy_loop": round(ct2 / loop, 2),
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 1),
    }  # fmt: skip
    print(f"batch {args.batch_size} x {args.new_tokens} new tokens, {args.threads} threads")
    print(f"  CTranslate2 {args.ct2_compute_type:<8} {ct2:8.1f} tokens/s")
    print(f"  HF transformers fp32 {hf:8.1f} tokens/s   (generate)")
    print(f"  HF fp32 greedy loop  {loop:8.1f} tokens/s   (hand-written, KV cache)")
    print(f"  ratio vs generate    {ct2 / hf:8.2f}x   (target >= 4x)")
    print(f"  ratio vs loop        {ct2 / loop:8.2f}x")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
