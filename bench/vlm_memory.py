"""Peak VRAM and prefill time of the full-size GLM-4.1V-9B architecture (random weights, CUDA).

No weights can be downloaded where this project is built, so the model is GLM-4.1V-9B's exact
configuration (the architecture of zai-org/Glyph) with random weights, made directly on the GPU in
fp16 and quantized per the model profile with bitsandbytes — the same modules the loader
quantizes (transformers' own ``should_convert_module`` on the profile's skip list). It then runs
through the real ``VlmReader`` (prompt, vision encoder, prefix prefill, decoding). Two figures:

1. **Peak VRAM** of one question on a ``--pages``-page document (default 20) with the
   ``--profile`` profile (default ``int4-vision``: 4-bit vision, fp16 language model);
   target ≤ 22 GB for a 24 GB card.
2. **Prefill time** of a ~``--text-tokens``-token document (default 100 000) fed as text tokens
   to the language model vs. as rendered pages (vision encoder + prefill of the visual tokens).
   The text side uses random token ids of the estimated length (GLM's tokenizer is not
   available here; ``app.render.tokens.estimate_text_tokens`` gives the length); note 100k text
   tokens exceed GLM-4.1V's 64k context — which is Glyph's point — so that figure is compute only.

Needs CUDA (an H100/A100-class GPU for the 100k-token text prefill); refuses otherwise.
``--smoke`` runs the same code with tiny dimensions on the CPU to check the script, and measures
nothing worth reporting.

    .venv/bin/python bench/vlm_memory.py                  # on a GPU host
    .venv/bin/python bench/vlm_memory.py --smoke          # anywhere: code-path check only
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# zai-org/GLM-4.1V-9B-Base / Glyph config.json (text_config, vision_config)
TEXT_9B = {
    "vocab_size": 151552,
    "hidden_size": 4096,
    "intermediate_size": 13696,
    "num_hidden_layers": 40,
    "num_attention_heads": 32,
    "num_key_value_heads": 2,
    "max_position_embeddings": 65536,
    "rms_norm_eps": 1e-05,
    "initializer_range": 0.02,
    "rope_parameters": {
        "rope_type": "default",
        "rope_theta": 10000.0,
        "partial_rotary_factor": 0.5,
        "mrope_section": [8, 12, 12],
    },
}
VISION_9B = {
    "depth": 24,
    "hidden_size": 1536,
    "num_heads": 12,
    "intermediate_size": 13696,
    "out_hidden_size": 4096,
    "patch_size": 14,
    "spatial_merge_size": 2,
    "temporal_patch_size": 2,
    "image_size": 336,
    "rms_norm_eps": 1e-05,
    "initializer_range": 0.02,
}


def build_model(profile, device, dtype, smoke: bool):
    """Random GLM-4.1V (9B or tiny) on ``device``, Linear layers quantized per ``profile``."""
    import torch
    from transformers import Glm4vForConditionalGeneration
    from transformers.quantizers.quantizers_utils import should_convert_module

    from tests.helpers.tiny_vlm import build_tokenizer, tiny_config

    tokenizer = build_tokenizer()
    text, vision = ({}, {}) if smoke else (TEXT_9B, VISION_9B)
    config = tiny_config(tokenizer, text_overrides=text, vision_overrides=vision)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = Glm4vForConditionalGeneration(config).eval()
    finally:
        torch.set_default_dtype(previous)
    if profile.quantized:
        import bitsandbytes as bnb

        skip = profile.skip_modules()
        targets = [
            name
            for name, module in model.named_modules()
            if type(module) is torch.nn.Linear and should_convert_module(name, skip)
        ]
        for name in targets:
            parent_name, _, child = name.rpartition(".")
            parent = model.get_submodule(parent_name)
            linear = getattr(parent, child)
            quant = bnb.nn.Linear4bit(
                linear.in_features,
                linear.out_features,
                bias=linear.bias is not None,
                compute_dtype=dtype,
                compress_statistics=profile.double_quant,
                quant_type=profile.quant_type,
                device="meta",
            )
            weight = linear.weight.data.to("cpu")
            quant.weight = bnb.nn.Params4bit(
                weight,
                requires_grad=False,
                quant_type=profile.quant_type,
                compress_statistics=profile.double_quant,
            ).to(device)
            if linear.bias is not None:
                quant.bias = torch.nn.Parameter(linear.bias.data, requires_grad=False)
            setattr(parent, child, quant)
            del linear, weight
        gc.collect()
        if device == "cuda":
            torch.cuda.empty_cache()
    return model, tokenizer


def make_loaded(profile, device, smoke: bool):
    import torch
    from transformers import Glm4vImageProcessorPil

    from app.readers.vlm.loader import LoadedModel, _guard_cpu_4bit_kernel
    from app.readers.vlm.processor import GlyphGlm4vProcessor
    from app.readers.vlm.quant import linear_layout, summarize_layout
    from tests.helpers.tiny_vlm import CHAT_TEMPLATE

    dtype = torch.float16 if device == "cuda" else torch.float32
    started = time.perf_counter()
    model, tokenizer = build_model(profile, device, dtype, smoke)
    if device == "cpu":
        _guard_cpu_4bit_kernel(model)
    stops = [tokenizer.convert_tokens_to_ids(t) for t in ("<|endoftext|>", "<|user|>")]
    model.generation_config.eos_token_id = stops
    model.generation_config.pad_token_id = stops[0]
    processor = GlyphGlm4vProcessor(
        Glm4vImageProcessorPil(), tokenizer, chat_template=CHAT_TEMPLATE
    )  # GLM-4.1V's default image processor settings (≤ 28·28·15000 px per image)
    layout = summarize_layout(linear_layout(model))
    return LoadedModel(
        model,
        processor,
        device,
        dtype,
        "random GLM-4.1V-9B" if not smoke else "random tiny GLM-4.1V",
        profile,
        time.perf_counter() - started,
        layout,
    )


def document(n_pages: int | None = None, text_tokens: int | None = None):
    """Report-like English text rendered with the 'en' preset: n pages, or ~text_tokens tokens."""
    from app.render import estimate_text_tokens, render, resolve_config

    line = (
        "Quarterly report {i}: revenue grew by {p}% to {m} million dollars; the auditor for "
        "region {i} was office {o} in Berlin, and the contract ends in month {k}."
    )
    config = resolve_config("en")
    lines: list[str] = []
    while True:
        lines.extend(
            line.format(i=i, p=i % 17, m=i % 9 + 1, o=i * 7 % 31, k=i % 12 + 1)
            for i in range(len(lines), len(lines) + 50)
        )
        text = "\n".join(lines)
        if text_tokens is not None and estimate_text_tokens(text) >= text_tokens:
            return render(text, config, name="bench")
        if n_pages is not None:
            doc = render(text, config, name="bench")
            if len(doc.pages) >= n_pages:
                end = doc.layout.span_of_page(n_pages - 1)[1]
                return render(text[:end], config, name="bench")


def gib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.2f} GiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--text-tokens", type=int, default=100_000)
    parser.add_argument("--profile", default="int4-vision")
    parser.add_argument("--new-tokens", type=int, default=16)
    parser.add_argument("--text-chunk", type=int, default=8192, help="prefill chunk (text side)")
    parser.add_argument("--smoke", action="store_true", help="tiny model on CPU: code path only")
    args = parser.parse_args()

    import torch

    from app.readers.vlm import VlmReader
    from app.readers.vlm.quant import load_profile
    from app.settings import Settings

    if args.smoke:
        device = "cpu"
        args.pages, args.text_tokens = min(args.pages, 3), min(args.text_tokens, 4000)
    elif not torch.cuda.is_available():
        print(
            "bench/vlm_memory.py needs a CUDA GPU (torch.cuda.is_available() is false): it "
            "measures GPU memory and GPU prefill time of the 9B model. Use --smoke to check the "
            "script on a CPU.",
            file=sys.stderr,
        )
        raise SystemExit(2)
    else:
        device = "cuda"
    profile = load_profile(args.profile)
    loaded = make_loaded(profile, device, args.smoke)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    weights = torch.cuda.memory_allocated() if device == "cuda" else 0
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            _env_file=None,
            model=loaded.source,
            model_profile=profile.name,
            device=device,
            max_new_tokens=args.new_tokens,
            max_visual_tokens=10**7,
            data_dir=Path(tmp),
        )
        reader = VlmReader(settings, loaded=loaded)

        # 1. peak memory of one question on an n-page document
        doc = document(n_pages=args.pages)
        if device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        answer = reader.ask(doc, "Which office audited region 3?")
        peak = torch.cuda.max_memory_allocated() if device == "cuda" else 0
        (entry,) = reader.engine.prefixes._data.values()
        kv_bytes = sum(layer.keys.nbytes + layer.values.nbytes for layer in entry.cache.layers)
        reader.engine.clear()

        # 2. prefill: ~N text tokens as text vs as rendered pages
        long_doc = document(text_tokens=args.text_tokens)
        n_text = long_doc.stats.text_tokens or args.text_tokens
        reader.engine.clear()
        gc.collect()
        if device == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        from app.readers.vlm.prompts import chat_prompt

        images = [p.image for p in long_doc.pages]
        hashes = [p.sha256 for p in long_doc.pages]
        prefix, _ = chat_prompt(loaded.processor, len(images), "")
        sync()
        started = time.perf_counter()
        page_entry, _ = reader.engine.prefix(images, hashes, prefix, long_doc.config.fingerprint())
        sync()
        pages_s = time.perf_counter() - started
        pages_peak = torch.cuda.max_memory_allocated() if device == "cuda" else 0
        visual = page_entry.visual_tokens
        reader.engine.clear()
        del page_entry
        gc.collect()
        if device == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        vocab = loaded.model.config.text_config.vocab_size
        generator = torch.Generator().manual_seed(0)
        # above the special tokens (the config uses the small test tokenizer's ids 0-19)
        ids = torch.randint(32, vocab, (1, n_text), generator=generator).to(device)
        from transformers import DynamicCache

        with torch.no_grad():
            sync()
            started = time.perf_counter()
            cache = DynamicCache(config=loaded.model.config.text_config)
            # chunked prefill (as servers do): bounded activations, same total attention work
            for start in range(0, n_text, args.text_chunk):
                chunk = ids[:, start : start + args.text_chunk]
                loaded.model(
                    input_ids=chunk, past_key_values=cache, use_cache=True, logits_to_keep=1
                )
            sync()
        text_s = time.perf_counter() - started
        del cache
        text_peak = torch.cuda.max_memory_allocated() if device == "cuda" else 0

    name = (
        torch.cuda.get_device_name() if device == "cuda" else "CPU (smoke run, not a measurement)"
    )
    print(f"# GLM-4.1V-9B architecture, random weights — {name}")
    print(f"profile {profile.name}: Linear layers {loaded.layout}; built in {loaded.load_s:.0f} s")
    print()
    print("| figure | value |")
    print("|---|---|")
    print(f"| weights in GPU memory | {gib(weights)} |")
    print(
        f"| peak VRAM, one question on {len(doc.pages)} pages ({answer.stats.visual_tokens} visual "
        f"tokens, {answer.stats.prompt_tokens} prompt tokens, {args.new_tokens} new) | {gib(peak)} |"
    )
    print(f"| KV cache of that document prefix | {gib(kv_bytes)} |")
    print(
        f"| document for the prefill test | ~{n_text} text tokens (estimated) = {len(long_doc.pages)} pages = {visual} visual tokens ({n_text / max(visual, 1):.2f}x) |"
    )
    print(
        f"| prefill as text ({n_text} tokens, chunks of {args.text_chunk}) | {text_s:.2f} s, "
        f"peak {gib(text_peak)} |"
    )
    print(
        f"| prefill as pages (vision encoder + {visual} tokens) | {pages_s:.2f} s, peak {gib(pages_peak)} |"
    )
    print(f"| speed-up of reading pages | {text_s / max(pages_s, 1e-9):.2f}x |")
    reader.close()


if __name__ == "__main__":
    main()
