"""SFT hyper-parameters: one dataclass, filled from ``configs/train/<name>.yaml`` and overrides.

Every field is documented in ``configs/train/lora.yaml``; ``qlora.yaml`` and ``full.yaml`` change
only what differs. Unknown keys are errors (a typo must not silently train with a default).
"""

from __future__ import annotations

import dataclasses
import logging
import types
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args, get_type_hints

import yaml

from app.errors import ConfigError
from app.readers.vlm.quant import configs_dir

log = logging.getLogger(__name__)

LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_up_proj", "down_proj")


@dataclass
class TrainConfig:
    # --- what ------------------------------------------------------------------------------------
    base_model: str | None = None  # local checkpoint dir or hub id (same as GLYPH_MODEL)
    data: str | None = None  # training JSONL
    output_dir: str = "runs/sft"
    # --- model -----------------------------------------------------------------------------------
    tune: Literal["lora", "full"] = "lora"
    profile: str = "int4-vision"  # quantization of the frozen base (configs/models/)
    qlora: bool = False  # 4-bit language model under the LoRA adapters (profile int4-all)
    freeze_vision: bool = True
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_targets: list[str] = field(default_factory=lambda: list(LORA_TARGETS))
    merge: bool = False  # also write a merged full checkpoint at the end (LoRA only)
    # --- optimisation ----------------------------------------------------------------------------
    epochs: float = 1.0
    max_steps: int | None = None  # optimizer steps; overrides epochs
    batch_size: int = 1
    grad_accum: int = 8
    learning_rate: float = 1e-4
    weight_decay: float = 0.0
    warmup_ratio: float = 0.03
    lr_scheduler: Literal["cosine", "linear", "constant"] = "cosine"
    max_grad_norm: float = 1.0
    precision: Literal["auto", "bf16", "fp16", "fp32"] = "auto"
    gradient_checkpointing: bool = True
    device: Literal["auto", "cuda", "cpu"] = "auto"
    seed: int = 0
    # --- data ------------------------------------------------------------------------------------
    max_length: int = 16384  # prompt + answer tokens; longer rows are skipped (logged)
    render_config: str = "auto"  # preset or Glyph JSON for rows given as text/path
    render_overrides: dict[str, Any] = field(default_factory=dict)
    prompt_style: Literal["reader", "plain"] = "reader"
    answer_template: str = "{answer}"
    ocr_aux_ratio: float = 0.0  # auxiliary OCR rows per QA row
    ocr_aux_max_lines: int = 3
    ocr_aux_margin: int = 4  # pixels around the crop
    ocr_aux_prompt_en: str = "Transcribe the text in this image exactly."
    ocr_aux_prompt_zh: str = "请逐字转写图中的文字。"
    # --- bookkeeping -----------------------------------------------------------------------------
    logging_steps: int = 10
    save_steps: int = 200
    save_total_limit: int = 2
    progress: bool = True

    def validate(self) -> TrainConfig:
        """Check ranges and combinations; raises ``ConfigError`` (en + zh)."""
        problems: list[str] = []
        positive = ("batch_size", "grad_accum", "lora_r", "logging_steps", "save_steps")
        problems += [f"{name} must be ≥ 1" for name in positive if getattr(self, name) < 1]
        if self.epochs <= 0 and not self.max_steps:
            problems.append("epochs must be > 0 (or set max_steps)")
        if self.max_steps is not None and self.max_steps < 1:
            problems.append("max_steps must be ≥ 1")
        if not 0 <= self.warmup_ratio < 1:
            problems.append("warmup_ratio must be in [0, 1)")
        if self.learning_rate <= 0:
            problems.append("learning_rate must be > 0")
        if not 0 <= self.lora_dropout < 1:
            problems.append("lora_dropout must be in [0, 1)")
        if self.ocr_aux_ratio < 0:
            problems.append("ocr_aux_ratio must be ≥ 0")
        if "{answer}" not in self.answer_template:
            problems.append("answer_template must contain {answer}")
        if self.tune == "full" and (self.qlora or self.profile != "none"):
            problems.append(
                "tune: full trains the language model's own weights: use profile: none and "
                "qlora: false (4-bit weights cannot be trained; see configs/train/full.yaml)"
            )
        if self.tune == "full" and self.merge:
            problems.append("merge applies to LoRA adapters; tune: full already saves a model")
        if self.tune == "lora" and not self.lora_targets:
            problems.append("lora_targets is empty")
        if problems:
            text = "; ".join(problems)
            raise ConfigError(f"Invalid training config: {text}.", f"训练配置无效：{text}。")
        return self

    @property
    def effective_profile(self) -> str:
        return "int4-all" if self.qlora else self.profile

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def available_configs() -> list[str]:
    return sorted(p.stem for p in (configs_dir() / "train").glob("*.yaml"))


def _coerce(name: str, value: Any) -> Any:
    """YAML/CLI values into the field's type (CLI values arrive as strings)."""
    hint = get_type_hints(TrainConfig)[name]
    if value is None:
        return None
    kind = hint
    if isinstance(hint, types.UnionType):  # X | None
        kind = next(a for a in get_args(hint) if a is not type(None))
    origin = getattr(kind, "__origin__", None)
    if kind is bool and isinstance(value, str):
        if value.lower() in {"1", "true", "yes", "on"}:
            return True
        if value.lower() in {"0", "false", "no", "off"}:
            return False
        raise ValueError(f"{name}: expected true/false, got {value!r}")
    if (
        kind in (int, float)
        and isinstance(value, str | int | float)
        and not isinstance(value, bool)
    ):
        return kind(value)
    if origin is list and isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if origin is dict and isinstance(value, str):
        loaded = yaml.safe_load(value)
        if not isinstance(loaded, dict):
            raise ValueError(f"{name}: expected a mapping")
        return loaded
    if origin is Literal and value not in get_args(kind):
        raise ValueError(f"{name}: expected one of {get_args(kind)}, got {value!r}")
    return value


def load_train_config(spec: str | Path | None = None, **overrides: Any) -> TrainConfig:
    """A config by name (``lora``, ``qlora``, ``full``) or YAML path, then ``overrides``.

    ``None`` overrides are ignored, so CLI flags that were not given keep the file's values.
    """
    data: dict[str, Any] = {}
    if spec is not None:
        path = Path(spec)
        if not (str(spec).endswith((".yaml", ".yml")) and path.is_file()):
            path = configs_dir() / "train" / f"{spec}.yaml"
        if not path.is_file():
            names = ", ".join(available_configs()) or "none found"
            raise ConfigError(
                f"Unknown training config '{spec}'. Available: {names}.",
                f"未知的训练配置 '{spec}'。可用：{names}。",
            )
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as err:
            raise ConfigError(
                f"Training config {path} is not valid YAML: {err}",
                f"训练配置 {path} 不是有效的 YAML：{err}",
            ) from err
    data.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"Unknown training config keys: {', '.join(unknown)}.",
            f"未知的训练配置项：{', '.join(unknown)}。",
        )
    try:
        values = {k: _coerce(k, v) for k, v in data.items()}
    except (TypeError, ValueError) as err:
        raise ConfigError(f"Invalid training config: {err}", f"训练配置无效：{err}") from err
    return TrainConfig(**values).validate()
