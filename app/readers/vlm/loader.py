"""Loading a GLM-4.1V-architecture checkpoint (Glyph, GLM-4.1V-9B-Base/Thinking) in-process.

One code path for a local directory and a hub id, for the tiny test checkpoint and the 9B:
``AutoModelForImageTextToText.from_pretrained`` with the profile's bitsandbytes config, and the
torchvision-free ``GlyphGlm4vProcessor``. Every failure becomes a ``ReaderError`` (en + zh) so that
``resolve_reader`` can fall back to the OCR reader and say why.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.errors import MissingExtraError, ReaderError
from app.readers.vlm.quant import ModelProfile, linear_layout, summarize_layout
from app.settings import Settings

log = logging.getLogger(__name__)

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
ADAPTER_CONFIG = "adapter_config.json"  # a PEFT LoRA adapter written by ``python -m app.train``


@dataclass
class LoadedModel:
    model: Any
    processor: Any
    device: str
    dtype: Any
    source: str
    profile: ModelProfile
    load_s: float
    layout: dict[str, dict[str, int]] = field(default_factory=dict)


def resolve_device(requested: str) -> str:
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise ReaderError(
            "GLYPH_DEVICE=cuda, but no CUDA GPU is visible to PyTorch.",
            "GLYPH_DEVICE=cuda，但 PyTorch 找不到可用的 CUDA GPU。",
        )
    return requested


def resolve_dtype(name: str, device: str) -> Any:
    import torch

    if device == "cpu" and name == "float16":
        # fp16 matmuls are slow or missing on CPUs; the default fp16 is meant for GPUs
        log.info("float16 requested on CPU: computing in float32")
        return torch.float32
    return {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}[name]


def check_source(source: str | None) -> str:
    """The checkpoint to load: an existing local directory, or something shaped like a hub id."""
    if not source:
        raise ReaderError(
            "No VLM checkpoint is configured: set GLYPH_MODEL to a local directory or a hub id "
            "(e.g. /root/models/Glyph or zai-org/Glyph).",
            "未配置 VLM 模型：请将 GLYPH_MODEL 设为本地目录或 Hugging Face 模型名"
            "（如 /root/models/Glyph 或 zai-org/Glyph）。",
        )
    path = Path(source).expanduser()
    if path.exists():
        if not (path / "config.json").is_file() and not (path / ADAPTER_CONFIG).is_file():
            raise ReaderError(
                f"{source} has no config.json: it is not a model checkpoint directory.",
                f"{source} 中没有 config.json，不是模型目录。",
            )
        return str(path)
    if source.startswith(("/", ".", "~")) or not _HUB_ID.match(source):
        raise ReaderError(
            f"Model directory {source} does not exist. Download the checkpoint first, e.g. "
            "huggingface-cli download zai-org/Glyph --local-dir /root/models/Glyph",
            f"模型目录 {source} 不存在。请先下载模型，例如："
            "huggingface-cli download zai-org/Glyph --local-dir /root/models/Glyph",
        )
    return source


def is_oom(err: BaseException) -> bool:
    """A CUDA out-of-memory error (some kernels raise a plain RuntimeError saying so)."""
    import torch

    return isinstance(err, torch.cuda.OutOfMemoryError) or (
        isinstance(err, RuntimeError) and "out of memory" in str(err).lower()
    )


def _guard_cpu_4bit_kernel(model: Any) -> None:
    """Avoid bitsandbytes' fused CPU 4-bit kernel where it returns garbage.

    bitsandbytes 0.50's AVX512-BF16 CPU kernel for 4-bit layers plans its work for torch's
    intra-op thread count; when ``OMP_THREAD_LIMIT`` is lower (the OCR reader's tesseract wants
    ``OMP_THREAD_LIMIT=1``), part of its output stays uninitialized — NaN logits. The generic
    path (dequantize, then matmul) is exact, and a 4-bit model on a CPU is a test/dev setup anyway.
    """
    import torch

    limit = os.environ.get("OMP_THREAD_LIMIT", "")
    if not (limit.isdigit() and int(limit) < torch.get_num_threads()):
        return
    changed = 0
    for module in model.modules():
        if getattr(module, "support_avx512bf16_for_cpu", False):
            module.support_avx512bf16_for_cpu = False
            changed += 1
    if changed:
        log.info(
            "OMP_THREAD_LIMIT=%s < %d torch threads: bitsandbytes' fused CPU 4-bit kernel disabled "
            "on %d layers (it returns NaN in that setting)",
            limit,
            torch.get_num_threads(),
            changed,
        )


def adapter_base(adapter: str) -> str:
    """The base checkpoint a LoRA adapter directory was trained on (``base_model_name_or_path``)."""
    try:
        config = json.loads(Path(adapter, ADAPTER_CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ReaderError(
            f"Cannot read the adapter config in {adapter}: {err}",
            f"无法读取 {adapter} 中的适配器配置：{err}",
        ) from err
    base = config.get("base_model_name_or_path")
    if not base:
        raise ReaderError(
            f"The adapter in {adapter} does not name its base model (base_model_name_or_path).",
            f"{adapter} 中的适配器未注明基础模型（base_model_name_or_path）。",
        )
    try:
        return check_source(base)
    except ReaderError as err:
        raise ReaderError(
            f"The LoRA adapter {adapter} needs its base model {base}: {err.en} Edit "
            f"base_model_name_or_path in {ADAPTER_CONFIG}, or merge the adapter once with "
            "`python -m app.train merge ADAPTER OUT --base BASE` and load OUT.",
            f"LoRA 适配器 {adapter} 需要基础模型 {base}：{err.zh} 请修改 {ADAPTER_CONFIG} 中的 "
            "base_model_name_or_path，或用 `python -m app.train merge ADAPTER OUT --base BASE` "
            "合并后加载 OUT。",
        ) from err


def apply_adapter(model: Any, adapter: str) -> Any:
    """``model`` with the LoRA adapter in ``adapter``: merged into the weights where they are
    full-precision (no inference overhead), kept as separate LoRA layers over 4-bit weights
    (merging into NF4 would re-quantize and lose the adapter's small updates)."""
    try:
        from peft import PeftModel
    except ImportError as err:
        raise MissingExtraError("train", "peft") from err
    peft_model = PeftModel.from_pretrained(model, adapter, is_trainable=False)
    over_4bit = any(
        type(getattr(module, "base_layer", None)).__name__ == "Linear4bit"
        for module in peft_model.modules()
        if hasattr(module, "lora_A")
    )
    if over_4bit:
        log.info("LoRA adapter %s applied unmerged (its target layers are 4-bit)", adapter)
        return peft_model.get_base_model()
    log.info("LoRA adapter %s merged into the base weights", adapter)
    return peft_model.merge_and_unload()


def load_model(settings: Settings, profile: ModelProfile) -> LoadedModel:
    """Load processor and model per ``settings`` (model, device, dtype) and ``profile``."""
    source = check_source(settings.model)
    try:
        import torch
        from transformers import AutoModelForImageTextToText
    except ImportError as err:  # pragma: no cover - the vlm extra is installed in tests
        raise MissingExtraError("vlm", err.name or "transformers") from err
    from app.readers.vlm.processor import GlyphGlm4vProcessor

    device = resolve_device(settings.device)
    dtype = resolve_dtype(settings.dtype, device)
    started = time.perf_counter()
    kwargs: dict[str, Any] = {"dtype": dtype}
    quant = profile.bnb_config(dtype)
    if quant is not None:
        try:
            import bitsandbytes  # noqa: F401
        except ImportError as err:
            raise MissingExtraError("vlm", "bitsandbytes") from err
        kwargs["quantization_config"] = quant
    kwargs["device_map"] = {"": 0} if device == "cuda" else "cpu"
    adapter = source if Path(source, ADAPTER_CONFIG).is_file() else None
    base = adapter_base(adapter) if adapter else source
    try:
        has_tokenizer = Path(source, "tokenizer_config.json").is_file() or not adapter
        processor = GlyphGlm4vProcessor.from_pretrained(source if has_tokenizer else base)
        model = AutoModelForImageTextToText.from_pretrained(base, **kwargs).eval()
        if adapter:
            model = apply_adapter(model, adapter).eval()
    except ReaderError:
        raise
    except (OSError, ValueError, KeyError, RuntimeError) as err:
        if is_oom(err):
            torch.cuda.empty_cache()
            raise ReaderError(
                f"Not enough GPU memory to load {source} with profile '{profile.name}'. Try "
                "GLYPH_MODEL_PROFILE=int4-all (4-bit language model, 12-16 GB cards).",
                f"GPU 显存不足，无法以 '{profile.name}' 配置加载 {source}。"
                "可尝试 GLYPH_MODEL_PROFILE=int4-all（4-bit 语言模型，适合 12-16 GB 显卡）。",
                detail=repr(err),
            ) from err
        raise ReaderError(
            f"Cannot load the model {source}: {err}",
            f"无法加载模型 {source}：{err}",
            detail=repr(err),
        ) from err
    if getattr(model.config, "model_type", "") not in {"glm4v", "glm4v_moe"}:
        raise ReaderError(
            f"{source} is a '{model.config.model_type}' model; the VLM reader needs the GLM-4.1V "
            "architecture (Glyph, GLM-4.1V-9B-Base/Thinking).",
            f"{source} 是 '{model.config.model_type}' 模型；VLM 阅读器需要 GLM-4.1V 架构"
            "（Glyph、GLM-4.1V-9B-Base/Thinking）。",
        )
    if device == "cpu" and quant is not None:
        _guard_cpu_4bit_kernel(model)
    layout = summarize_layout(linear_layout(model))
    load_s = time.perf_counter() - started
    log.info(
        "loaded %s on %s (%s, profile %s) in %.1fs; Linear layers: %s",
        source,
        device,
        str(dtype).removeprefix("torch."),
        profile.name,
        load_s,
        layout,
    )
    return LoadedModel(model, processor, device, dtype, source, profile, load_s, layout)
