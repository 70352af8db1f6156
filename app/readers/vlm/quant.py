"""Model profiles (configs/models/*.yaml): which parts of GLM-4.1V are 4-bit, decoding, cache sizes.

A profile names a precision per part (``vision``, ``language``); the bitsandbytes config follows
from it. transformers 5 decides what *not* to quantize by matching ``llm_int8_skip_modules``
against full dotted module names (from the start, at a module boundary, or as a suffix of the full
name). So the skip list must hold full paths: ``model.visual`` skips the vision tower,
``model.language_model`` the language model. A bare ``visual`` only matches the module named
exactly ``…visual`` — none of its Linear layers — and silently quantizes everything. ``lm_head`` is
always listed: once a skip list is given, the library no longer keeps the output head in full
precision by itself.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field

from app.errors import ConfigError

log = logging.getLogger(__name__)

VISION_MODULE = "model.visual"
LANGUAGE_MODULE = "model.language_model"
HEAD_MODULE = "lm_head"

Precision = Literal["int4", "fp16"]


def configs_dir() -> Path:
    """The repository's ``configs/`` directory (shipped next to the ``app`` package)."""
    return Path(__file__).resolve().parents[3] / "configs"


class GenerationProfile(BaseModel):
    do_sample: bool = False
    temperature: float | None = Field(None, gt=0)
    top_p: float | None = Field(None, gt=0, le=1)
    repetition_penalty: float = Field(1.0, gt=0)


class CacheProfile(BaseModel):
    prefix_entries: int = Field(2, ge=0, description="documents whose prefix KV cache is kept")
    feature_pages: int = Field(256, ge=0, description="pages whose vision features are kept")
    vision_batch_tokens: int = Field(
        8192, ge=1, description="visual tokens per vision-encoder call (bounds its activations)"
    )
    prefill_chunk: int = Field(
        8192, ge=1, description="prompt tokens per language-model step when prefilling a document"
    )


class ModelProfile(BaseModel):
    """One ``configs/models/<name>.yaml``."""

    name: str
    description: str = ""
    vision: Precision = "int4"
    language: Precision = "fp16"
    quant_type: Literal["nf4", "fp4"] = "nf4"
    double_quant: bool = True
    extra_skip_modules: list[str] = Field(
        default_factory=list, description="more full dotted module paths kept unquantized"
    )
    generation: GenerationProfile = Field(default_factory=GenerationProfile)
    cache: CacheProfile = Field(default_factory=CacheProfile)

    @property
    def quantized(self) -> bool:
        return "int4" in (self.vision, self.language)

    def skip_modules(self) -> list[str]:
        """Full dotted paths of the modules that stay in the compute dtype."""
        skip = [HEAD_MODULE]
        if self.vision != "int4":
            skip.append(VISION_MODULE)
        if self.language != "int4":
            skip.append(LANGUAGE_MODULE)
        return [*skip, *self.extra_skip_modules]

    def bnb_config(self, compute_dtype: Any) -> Any | None:
        """The ``BitsAndBytesConfig`` of this profile, or None when nothing is quantized."""
        if not self.quantized:
            return None
        from transformers import BitsAndBytesConfig

        return BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type=self.quant_type,
            bnb_4bit_use_double_quant=self.double_quant,
            bnb_4bit_compute_dtype=compute_dtype,
            llm_int8_skip_modules=self.skip_modules(),
        )


def available_profiles() -> list[str]:
    return sorted(p.stem for p in (configs_dir() / "models").glob("*.yaml"))


def load_profile(spec: str) -> ModelProfile:
    """A profile by name (``int4-vision``) or by path to a YAML file."""
    path = Path(spec)
    if not (spec.endswith((".yaml", ".yml")) and path.is_file()):
        path = configs_dir() / "models" / f"{spec}.yaml"
    if not path.is_file():
        names = ", ".join(available_profiles()) or "none found"
        raise ConfigError(
            f"Unknown model profile '{spec}' (GLYPH_MODEL_PROFILE). Available: {names}.",
            f"未知的模型配置 '{spec}'（GLYPH_MODEL_PROFILE）。可用：{names}。",
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        data.setdefault("name", path.stem)
        return ModelProfile.model_validate(data)
    except Exception as err:  # yaml or validation: one readable message
        raise ConfigError(
            f"Model profile {path} is invalid: {err}",
            f"模型配置 {path} 无效：{err}",
            detail=repr(err),
        ) from err


def linear_layout(model: Any) -> dict[str, str]:
    """Every Linear layer's full name → '4bit' or 'full' (for tests and the load log)."""
    import torch

    try:
        from bitsandbytes.nn import Linear4bit
    except ImportError:  # pragma: no cover - bitsandbytes is in the vlm extra
        Linear4bit = ()
    layout = {}
    for name, module in model.named_modules():
        if Linear4bit and isinstance(module, Linear4bit):
            layout[name] = "4bit"
        elif isinstance(module, torch.nn.Linear):
            layout[name] = "full"
    return layout


def summarize_layout(layout: dict[str, str]) -> dict[str, dict[str, int]]:
    """Counts of 4-bit / full Linear layers per part: vision, language, head."""
    parts: dict[str, dict[str, int]] = {}
    for name, kind in layout.items():
        if name.startswith(VISION_MODULE + "."):
            part = "vision"
        elif name.startswith(LANGUAGE_MODULE + "."):
            part = "language"
        else:
            part = name
        counts = parts.setdefault(part, {"4bit": 0, "full": 0})
        counts[kind] += 1
    return parts
