"""The model under training: loaded by the VLM reader's loader, then frozen / adapted.

* The base checkpoint is loaded by ``app.readers.vlm.loader.load_model`` with a quantization
  profile from ``configs/models/`` — the same code path as inference, so what trains is what the
  reader runs (``int4-vision`` by default; ``int4-all`` for QLoRA; ``none`` for full tuning).
* Everything is frozen first. LoRA (peft) then adds adapters to the Linear layers named in
  ``lora_targets`` — matched by their full names inside ``model.language_model`` (and
  ``model.visual`` when ``freeze_vision`` is off), never by bare suffixes that could also hit the
  vision tower. ``tune: full`` unfreezes the language model and the output head instead.
* Precision: fp32 on CPU; on CUDA bf16 where supported, else fp16 with a gradient scaler.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from app.errors import ConfigError
from app.readers.vlm.loader import LoadedModel, load_model, resolve_device
from app.readers.vlm.quant import HEAD_MODULE, LANGUAGE_MODULE, VISION_MODULE, load_profile
from app.settings import Settings
from app.train.config import TrainConfig

log = logging.getLogger(__name__)


@dataclass
class Precision:
    name: str  # bf16 | fp16 | fp32
    load_dtype: str  # Settings.dtype the base is loaded in
    autocast: Any  # torch dtype for torch.autocast, or None
    scaler: bool  # fp16: scale the loss against underflow


@dataclass
class TrainModel:
    loaded: LoadedModel
    model: Any  # what is saved: a PeftModel (LoRA) or the transformers model (full)
    inner: Any  # the Glm4vForConditionalGeneration (LoRA layers injected in place)
    precision: Precision
    lora_targets: list[str]

    @property
    def processor(self) -> Any:
        return self.loaded.processor

    @property
    def device(self) -> str:
        return self.loaded.device

    def trainable(self) -> dict[str, Any]:
        return {n: p for n, p in self.model.named_parameters() if p.requires_grad}


def resolve_precision(requested: str, device: str, tune: str) -> Precision:
    import torch

    if device == "cpu":
        if requested not in ("auto", "fp32"):
            log.info("precision %s requested on CPU: training in fp32", requested)
        return Precision("fp32", "float32", None, False)
    name = requested
    if name == "auto":
        name = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if name == "fp32":
        return Precision("fp32", "float32", None, False)
    if name == "bf16":
        # LoRA: bf16 frozen base, fp32 adapters under autocast. Full: pure bf16 weights.
        return Precision("bf16", "bfloat16", torch.bfloat16 if tune == "lora" else None, False)
    # fp16: a fp16 frozen base for LoRA; full tuning keeps fp32 master weights under autocast.
    return Precision("fp16", "float16" if tune == "lora" else "float32", torch.float16, True)


def lora_target_names(model: Any, short: list[str], *, include_vision: bool) -> list[str]:
    """Full names of the Linear layers inside the language model (and vision tower) to adapt."""
    import torch

    prefixes = [LANGUAGE_MODULE + "."] + ([VISION_MODULE + "."] if include_vision else [])
    wanted = set(short)
    names = []
    for name, module in model.named_modules():
        if not any(name.startswith(p) for p in prefixes):
            continue
        is_linear = isinstance(module, torch.nn.Linear) or type(module).__name__ == "Linear4bit"
        if is_linear and (name.rsplit(".", 1)[-1] in wanted or name.startswith(VISION_MODULE)):
            names.append(name)
    if not names:
        raise ConfigError(
            f"No Linear layer of {LANGUAGE_MODULE} matches lora_targets {short}.",
            f"{LANGUAGE_MODULE} 中没有与 lora_targets {short} 匹配的线性层。",
        )
    return names


def build_model(cfg: TrainConfig) -> TrainModel:
    """Load the base checkpoint through the reader's loader and prepare it for ``cfg.tune``."""
    if not cfg.base_model:
        raise ConfigError(
            "No base checkpoint: set base_model in the config or pass --base DIR.",
            "未指定基础模型：请在配置中设置 base_model 或传入 --base DIR。",
        )
    device = resolve_device(cfg.device)
    precision = resolve_precision(cfg.precision, device, cfg.tune)
    profile = load_profile(cfg.effective_profile)
    if cfg.tune == "full" and profile.quantized:
        raise ConfigError(
            f"Full tuning needs unquantized weights; profile '{profile.name}' has 4-bit layers.",
            f"全参数微调需要未量化的权重；配置 '{profile.name}' 含 4-bit 层。",
        )
    settings = Settings(
        _env_file=None, model=cfg.base_model, device=device, dtype=precision.load_dtype
    )
    loaded = load_model(settings, profile)
    model = loaded.model
    model.requires_grad_(False)
    targets: list[str] = []
    if cfg.tune == "lora":
        try:
            from peft import LoraConfig, get_peft_model
        except ImportError as err:  # pragma: no cover - the train extra is installed in tests
            from app.errors import MissingExtraError

            raise MissingExtraError("train", "peft") from err
        targets = lora_target_names(model, cfg.lora_targets, include_vision=not cfg.freeze_vision)
        lora = LoraConfig(
            r=cfg.lora_r,
            lora_alpha=cfg.lora_alpha,
            lora_dropout=cfg.lora_dropout,
            target_modules=targets,
            bias="none",
        )
        wrapped = get_peft_model(model, lora)
        inner = wrapped.get_base_model()
    else:
        prefixes = (LANGUAGE_MODULE + ".", HEAD_MODULE + ".")
        if not cfg.freeze_vision:
            prefixes += (VISION_MODULE + ".",)
        for name, param in model.named_parameters():
            if name.startswith(prefixes):
                param.requires_grad_(True)
        wrapped = inner = model
    if cfg.gradient_checkpointing:
        # non-reentrant checkpointing needs no input that requires grad (embeddings are frozen)
        kwargs = {"use_reentrant": False}
        if hasattr(inner, "activation_checkpointing_enable"):  # transformers ≥ 5.2x name
            inner.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
        else:  # pragma: no cover - older transformers
            inner.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)
    inner.config.use_cache = False
    inner.config.text_config.use_cache = False
    wrapped.train()
    result = TrainModel(loaded, wrapped, inner, precision, targets)
    trainable = sum(p.numel() for p in result.trainable().values())
    total = sum(p.numel() for p in model.parameters())
    log.info(
        "training %s (%s, profile %s, %s): %d of %d parameters trainable (%.3f%%)",
        cfg.base_model,
        cfg.tune,
        profile.name,
        precision.name,
        trainable,
        total,
        100 * trainable / max(total, 1),
    )
    return result


def answer_loss(inner: Any, batch: dict[str, Any]) -> tuple[Any, int]:
    """(sum of cross-entropy over answer tokens, their count) for one batch.

    The output head runs only on the positions that predict an answer token: the vocabulary
    logits of a long page prompt (151k × tens of thousands of positions on the 9B) are never
    materialised, and normalising by the step's total answer tokens is left to the caller.
    """
    import torch.nn.functional as F

    out = inner.model(
        input_ids=batch["input_ids"],
        attention_mask=batch["attention_mask"],
        pixel_values=batch.get("pixel_values"),
        image_grid_thw=batch.get("image_grid_thw"),
        mm_token_type_ids=batch["mm_token_type_ids"],
        use_cache=False,
    )
    hidden = out.last_hidden_state[:, :-1]
    labels = batch["labels"][:, 1:]
    mask = labels != -100
    logits = inner.lm_head(hidden[mask]).float()
    loss = F.cross_entropy(logits, labels[mask], reduction="sum")
    return loss, int(mask.sum())
