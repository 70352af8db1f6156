"""ESTIMATED GPU memory of the Glyph / GLM-4.1V-9B weights per quantization profile, by arithmetic.

No GPU is available where this project is built, so docs/DEPLOY.md's memory table is computed,
not measured: the model is instantiated on PyTorch's *meta* device (shapes only, no memory) from
GLM-4.1V-9B's configuration (``bench/vlm_memory.py``'s ``TEXT_9B`` / ``VISION_9B``, the numbers of
zai-org/Glyph's config.json), and every parameter is counted at the size its profile stores it:

* fp16/bf16: 2 bytes per parameter;
* bitsandbytes NF4 (the ``Linear`` layers a profile quantizes, chosen exactly as the loader does,
  with the profile's skip list and transformers' ``should_convert_module``): 0.5 byte per weight
  plus the block statistics — one absmax per 64 weights, stored as 1 byte with double
  quantization (+ one fp32 per 256 blocks), or as fp32 without.

Activations, the CUDA context and the KV cache come on top; the cache is given per 1,000 tokens
from the attention shape (K and V, every layer, fp16). ``bench/vlm_memory.py`` measures the real
peak on a GPU host.

    .venv/bin/python tests/deploy/memory_estimate.py      # prints the table of docs/DEPLOY.md
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BLOCK = 64  # bitsandbytes 4-bit block size
DOUBLE_QUANT_GROUP = 256  # blocks per second-level fp32 statistic
PROFILES = ("int4-vision", "int4-all", "none")


@dataclass
class Estimate:
    profile: str
    vision_bytes: float
    language_bytes: float  # the language model's layers and the token embeddings
    head_bytes: float  # lm_head

    @property
    def total_bytes(self) -> float:
        return self.vision_bytes + self.language_bytes + self.head_bytes


def _nf4_bytes(n: int, double_quant: bool) -> float:
    blocks = n / BLOCK
    stats = blocks * 1 + (blocks / DOUBLE_QUANT_GROUP) * 4 if double_quant else blocks * 4
    return n / 2 + stats


def build_meta_model():
    """GLM-4.1V-9B with no storage (meta device), as transformers builds it."""
    import torch
    from transformers import Glm4vConfig, Glm4vForConditionalGeneration

    from bench.vlm_memory import TEXT_9B, VISION_9B

    config = Glm4vConfig(
        text_config=dict(TEXT_9B), vision_config=dict(VISION_9B), tie_word_embeddings=False
    )
    with torch.device("meta"):
        return Glm4vForConditionalGeneration(config), config


def estimate(model, profile_name: str) -> Estimate:
    import torch
    from transformers.quantizers.quantizers_utils import should_convert_module

    from app.readers.vlm.quant import HEAD_MODULE, VISION_MODULE, load_profile

    profile = load_profile(profile_name)
    skip = profile.skip_modules()
    quantized_weights = set()
    if profile.quantized:
        for name, module in model.named_modules():
            if type(module) is torch.nn.Linear and should_convert_module(name, skip):
                quantized_weights.add(f"{name}.weight")
    parts = {"vision": 0.0, "language": 0.0, "head": 0.0}
    for name, param in model.named_parameters():
        size = (
            _nf4_bytes(param.numel(), profile.double_quant)
            if name in quantized_weights
            else 2.0 * param.numel()
        )
        if name.startswith(VISION_MODULE + "."):
            parts["vision"] += size
        elif name.startswith(HEAD_MODULE):
            parts["head"] += size
        else:
            parts["language"] += size
    return Estimate(profile_name, parts["vision"], parts["language"], parts["head"])


def parameter_counts(model) -> dict[str, int]:
    from app.readers.vlm.quant import HEAD_MODULE, VISION_MODULE

    counts = {"vision": 0, "language": 0, "head": 0}
    for name, param in model.named_parameters():
        key = (
            "vision"
            if name.startswith(VISION_MODULE + ".")
            else "head"
            if name.startswith(HEAD_MODULE)
            else "language"
        )
        counts[key] += param.numel()
    return counts


def kv_bytes_per_token(config) -> int:
    text = config.text_config
    head_dim = getattr(text, "head_dim", None) or text.hidden_size // text.num_attention_heads
    return 2 * text.num_hidden_layers * text.num_key_value_heads * head_dim * 2


def gb(n_bytes: float) -> str:
    return f"{n_bytes / 1e9:.1f}"


def table() -> str:
    model, config = build_meta_model()
    counts = parameter_counts(model)
    rows = [
        "| profile | vision encoder | language model + embeddings | lm_head | weights total |",
        "|---|---|---|---|---|",
    ]
    for name in PROFILES:
        e = estimate(model, name)
        rows.append(
            f"| `{name}` | {gb(e.vision_bytes)} GB | {gb(e.language_bytes)} GB | "
            f"{gb(e.head_bytes)} GB | **{gb(e.total_bytes)} GB** |"
        )
    kv = kv_bytes_per_token(config)
    return "\n".join(
        [
            f"parameters: vision {counts['vision'] / 1e9:.2f} B, language {counts['language'] / 1e9:.2f} B, "
            f"lm_head {counts['head'] / 1e9:.2f} B, total {sum(counts.values()) / 1e9:.2f} B",
            "",
            *rows,
            "",
            f"KV cache: {kv / 1e3:.0f} KB per token = {kv * 1000 / 1e6:.0f} MB per 1,000 tokens "
            f"= {kv * config.text_config.max_position_embeddings / 1e9:.1f} GB for the full "
            f"{config.text_config.max_position_embeddings:,}-token context",
        ]
    )


if __name__ == "__main__":
    print(table())
