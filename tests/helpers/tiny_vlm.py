"""A tiny random-weight GLM-4.1V checkpoint, built locally (no download), for plumbing tests.

``build_tiny_glm4v(path)`` writes a directory that looks like a real GLM-4.1V / Glyph checkpoint:
``config.json`` + ``model.safetensors`` (``Glm4vForConditionalGeneration``, ~0.3 M parameters),
``generation_config.json`` (stop tokens like GLM-4.1V's), a byte-level BPE tokenizer trained here
with ``tokenizers`` that carries GLM-4.1V's special tokens, a chat template shaped like GLM-4.1V's,
and the image processor config (patch 14, spatial merge 2 ⇒ one visual token per 28×28 px).

Everything downstream (``app.readers.vlm``, SFT training, ONNX export) loads it by path through the
same code as a real checkpoint. Random weights produce garbage text: tests check shapes, layouts,
streaming and caching, never answer quality. Deterministic for a given ``seed``.
"""

from __future__ import annotations

import json
from pathlib import Path

# GLM-4.1V's added tokens, in the checkpoint's order (ids differ: the real ones start at 151329).
SPECIAL_TOKENS: tuple[str, ...] = (
    "<|endoftext|>",
    "[MASK]",
    "[gMASK]",
    "[sMASK]",
    "<sop>",
    "<eop>",
    "<|system|>",
    "<|user|>",
    "<|assistant|>",
    "<|observation|>",
    "<|begin_of_image|>",
    "<|end_of_image|>",
    "<|begin_of_video|>",
    "<|end_of_video|>",
    "<|image|>",
    "<|video|>",
    "<|begin_of_box|>",
    "<|end_of_box|>",
    "<think>",
    "</think>",
)

# Shaped like GLM-4.1V-Thinking's template: [gMASK]<sop>, role tags on their own lines, an image
# placeholder wrapped in begin/end markers per image, and "<|assistant|>\n" as generation prompt.
CHAT_TEMPLATE = (
    "[gMASK]<sop>"
    "{%- for msg in messages %}"
    "{%- if msg.role == 'system' %}<|system|>{{ '\\n' }}{{ msg.content }}"
    "{%- elif msg.role == 'user' %}<|user|>{{ '\\n' }}"
    "{%- if msg.content is string %}{{ msg.content }}"
    "{%- else %}{%- for item in msg.content %}"
    "{%- if item.type == 'video' or 'video' in item %}<|begin_of_video|><|video|><|end_of_video|>"
    "{%- elif item.type == 'image' or 'image' in item %}<|begin_of_image|><|image|><|end_of_image|>"
    "{%- elif item.type == 'text' %}{{ item.text }}"
    "{%- endif %}{%- endfor %}{%- endif %}"
    "{%- elif msg.role == 'assistant' %}<|assistant|>{{ '\\n' }}{{ msg.content }}"
    "{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}<|assistant|>{{ '\\n' }}{%- endif %}"
)

_EN = (
    "The quarterly report shows revenue of 4.5 million dollars, an increase of 12 percent. "
    "The auditor was Jane Smith from Berlin. What is the total? Answer the question about the "
    "document. Summarize the main points. Extract the names, dates, amounts and places. "
    "Invoice number 2024-0173 is due on March 3rd. The contract ends in December. "
)
_ZH = (
    "季度报告显示收入为四百五十万元，增长百分之十二。审计师是来自柏林的简·史密斯。总数是多少？"
    "请根据文档回答问题。请总结要点。请提取姓名、日期、金额和地点。合同于十二月到期。"
)


def _corpus() -> list[str]:
    digits = " ".join(str(n) for n in range(200))
    return [_EN, _ZH, digits, "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ .,:;!?()[]"]


def build_tokenizer(vocab_size: int = 512):
    """A byte-level BPE ``PreTrainedTokenizerFast`` with GLM-4.1V's special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_corpus() * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        clean_up_tokenization_spaces=False,
        model_max_length=65536,
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def tiny_config(
    tokenizer,
    *,
    text_layers: int = 2,
    vision_depth: int = 2,
    text_overrides: dict | None = None,
    vision_overrides: dict | None = None,
):
    """A ``Glm4vConfig`` with GLM-4.1V's structure and tiny sizes (overridable, e.g. for benches)."""
    from transformers import Glm4vConfig

    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    text = {
        "vocab_size": len(tokenizer),
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": text_layers,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,  # grouped-query attention like the 9B (32 heads, 2 KV heads)
        "max_position_embeddings": 65536,
        "pad_token_id": ids["<|endoftext|>"],
        # larger than the 0.02 of real checkpoints so that random logits vary from step to step
        # (otherwise greedy decoding repeats one token and cache tests would prove little)
        "initializer_range": 0.5,
        # head_dim 32, half of it rotary: 8 frequencies split over (t, h, w) like [8, 12, 12] / 4
        "rope_parameters": {
            "rope_type": "default",
            "rope_theta": 10000.0,
            "partial_rotary_factor": 0.5,
            "mrope_section": [2, 3, 3],
        },
    }
    vision = {
        "depth": vision_depth,
        # every Linear's in_features a multiple of 64: bitsandbytes' CPU 4-bit kernel packs weights
        # in blocks of 64 input features (real checkpoints' sizes all are multiples of 64)
        "hidden_size": 64,
        "num_heads": 2,
        "intermediate_size": 128,
        "out_hidden_size": 64,  # = text hidden size
        "patch_size": 14,
        "spatial_merge_size": 2,
        "temporal_patch_size": 2,
        "image_size": 56,
        "initializer_range": 0.5,
    }
    text.update(text_overrides or {})
    vision.update(vision_overrides or {})
    return Glm4vConfig(
        text_config=text,
        vision_config=vision,
        image_token_id=ids["<|image|>"],
        video_token_id=ids["<|video|>"],
        image_start_token_id=ids["<|begin_of_image|>"],
        image_end_token_id=ids["<|end_of_image|>"],
        video_start_token_id=ids["<|begin_of_video|>"],
        video_end_token_id=ids["<|end_of_video|>"],
    )


def build_tiny_glm4v(
    path: str | Path,
    *,
    seed: int = 0,
    max_pixels: int = 28 * 28 * 2048,
    text_overrides: dict | None = None,
    vision_overrides: dict | None = None,
) -> Path:
    """Write a tiny random GLM-4.1V checkpoint (model, tokenizer, processor) to ``path``.

    ``max_pixels`` bounds one image after resizing (``longest_edge`` of the image processor), like
    the real checkpoint's processor config does. ``text_overrides`` / ``vision_overrides`` change
    sub-config fields (keep every Linear's input size a multiple of 64 for 4-bit on CPU).
    """
    import torch
    from transformers import GenerationConfig, Glm4vForConditionalGeneration, Glm4vImageProcessorPil

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer()
    config = tiny_config(
        tokenizer, text_overrides=text_overrides, vision_overrides=vision_overrides
    )

    torch.manual_seed(seed)
    model = Glm4vForConditionalGeneration(config).eval()
    stop = [
        tokenizer.convert_tokens_to_ids(t) for t in ("<|endoftext|>", "<|user|>", "<|observation|>")
    ]
    model.generation_config = GenerationConfig(
        eos_token_id=stop, pad_token_id=stop[0], do_sample=False, max_new_tokens=64
    )
    model.save_pretrained(path)

    image_processor = Glm4vImageProcessorPil(
        size={"shortest_edge": 28 * 28 * 4, "longest_edge": max_pixels},
        patch_size=14,
        temporal_patch_size=2,
        merge_size=2,
    )
    # The processor is what users load; saved with the stock class name so the directory is
    # indistinguishable from a hub checkpoint (the reader swaps in its torchvision-free subclass).
    image_processor.save_pretrained(path)
    tokenizer.save_pretrained(path)
    (path / "chat_template.jinja").write_text(CHAT_TEMPLATE, encoding="utf-8")
    (path / "processor_config.json").write_text(
        json.dumps({"processor_class": "Glm4vProcessor"}, indent=2), encoding="utf-8"
    )
    return path


def parameter_count(path: str | Path) -> int:
    """Number of parameters of a saved checkpoint (reads the safetensors header only)."""
    from safetensors import safe_open

    total = 0
    with safe_open(str(Path(path) / "model.safetensors"), framework="pt") as fh:
        for name in fh.keys():  # noqa: SIM118 - safe_open is not a mapping
            n = 1
            for dim in fh.get_slice(name).get_shape():
                n *= dim
            total += n
    return total


if __name__ == "__main__":  # python -m tests.helpers.tiny_vlm /tmp/tiny
    import sys

    out = build_tiny_glm4v(sys.argv[1] if len(sys.argv) > 1 else "tiny-glm4v")
    print(out, parameter_count(out), "parameters")
