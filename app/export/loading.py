"""Loading only the vision tower of a GLM-4.1V checkpoint (weights under ``model.visual.``).

Exporting must not need the language model in memory: the 9B checkpoint in float32 is ~40 GB,
its vision tower ~4 GB. The tower is built from ``config.json``'s ``vision_config`` without
random initialisation and filled from the safetensors shards that hold its weights.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.errors import ExportError, MissingExtraError
from app.readers.vlm.onnx_preprocess import PreprocessConfig

log = logging.getLogger(__name__)

# Where the tower's weights live in GLM-4.1V checkpoints (transformers ≥ 4.52 layout first)
_PREFIXES = ("model.visual.", "visual.")


@dataclass
class VisionSource:
    visual: Any  # Glm4vVisionModel, float32, eval mode
    preprocess: PreprocessConfig
    source: str


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ExportError(
            f"Cannot read {path}: {err}",
            f"无法读取 {path}：{err}",
        ) from err


def read_preprocess_config(model_dir: str | Path) -> PreprocessConfig:
    """The checkpoint's image processor settings (class defaults where the file is missing)."""
    path = Path(model_dir) / "preprocessor_config.json"
    if not path.is_file():
        log.warning("%s missing: using Glm4vImageProcessor defaults", path)
        return PreprocessConfig()
    return PreprocessConfig.from_processor_dict(_read_json(path))


def _weight_files(model_dir: Path) -> list[Path]:
    index = model_dir / "model.safetensors.index.json"
    if index.is_file():
        weight_map: dict[str, str] = _read_json(index).get("weight_map", {})
        names = sorted(
            {f for k, f in weight_map.items() if k.startswith(_PREFIXES)},
        )
        return [model_dir / n for n in names]
    single = model_dir / "model.safetensors"
    if single.is_file():
        return [single]
    raise ExportError(
        f"{model_dir} has no model.safetensors (or index): only safetensors checkpoints export.",
        f"{model_dir} 中没有 model.safetensors（或其索引）：仅支持 safetensors 格式的模型导出。",
    )


def build_vision_tower(vision_config: Any) -> Any:
    """An uninitialised float32 ``Glm4vVisionModel`` (fast: init functions are no-ops)."""
    import torch
    from transformers import Glm4vVisionModel
    from transformers.initialization import no_init_weights

    with no_init_weights():
        visual = Glm4vVisionModel._from_config(vision_config, dtype=torch.float32)
    return visual.eval()


def load_vision_tower(model_dir: str | Path) -> VisionSource:
    """The vision tower of the checkpoint in ``model_dir`` (float32, CPU) and its preprocessing."""
    try:
        import torch
        from safetensors import safe_open
        from transformers import AutoConfig
    except ImportError as err:  # pragma: no cover - the vlm extra is installed in tests
        raise MissingExtraError("vlm", err.name or "transformers") from err

    path = Path(model_dir).expanduser()
    if not (path / "config.json").is_file():
        raise ExportError(
            f"{model_dir} is not a model directory (no config.json).",
            f"{model_dir} 不是模型目录（缺少 config.json）。",
        )
    config = AutoConfig.from_pretrained(str(path))
    if getattr(config, "model_type", "") not in {"glm4v", "glm4v_moe"}:
        raise ExportError(
            f"{model_dir} is a '{config.model_type}' model; the export needs the GLM-4.1V "
            "architecture (Glyph, GLM-4.1V-9B-Base/Thinking).",
            f"{model_dir} 是 '{config.model_type}' 模型；导出需要 GLM-4.1V 架构"
            "（Glyph、GLM-4.1V-9B-Base/Thinking）。",
        )
    visual = build_vision_tower(config.vision_config)
    expected = set(visual.state_dict())
    state: dict[str, Any] = {}
    for file in _weight_files(path):
        with safe_open(str(file), framework="pt") as fh:
            for key in fh.keys():  # noqa: SIM118 - safe_open is not a mapping
                for prefix in _PREFIXES:
                    if key.startswith(prefix) and key[len(prefix) :] in expected:
                        state[key[len(prefix) :]] = fh.get_tensor(key).to(torch.float32)
                        break
    missing = sorted(expected - set(state))
    if missing:
        raise ExportError(
            f"{model_dir} lacks {len(missing)} vision-tower weights (e.g. {missing[0]}).",
            f"{model_dir} 缺少 {len(missing)} 个视觉编码器权重（如 {missing[0]}）。",
        )
    visual.load_state_dict(state, strict=True)
    log.info("loaded the vision tower of %s (%d tensors)", path, len(state))
    return VisionSource(visual.eval(), read_preprocess_config(path), str(path))
