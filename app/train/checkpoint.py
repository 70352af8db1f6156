"""Saving what training produced: resumable checkpoints, the adapter, a merged or full model.

``OUT/checkpoints/step-000200/``: the trainable tensors (``trainable.safetensors``), optimizer,
scheduler, gradient scaler and RNG states and ``state.json`` (step) — ``--resume`` continues from
the latest one with the same data order. ``OUT/adapter/`` is a PEFT LoRA adapter plus the base's
processor files; the VLM reader loads it directly (``GLYPH_MODEL=OUT/adapter``; the loader reads
the base from ``adapter_config.json``). ``OUT/merged/`` (``merge: true`` or
``python -m app.train merge``) and ``OUT/model/`` (full tuning) are ordinary checkpoints.
"""

from __future__ import annotations

import json
import logging
import random
import re
import shutil
from pathlib import Path
from typing import Any

from app.errors import ConfigError
from app.readers.vlm.loader import ADAPTER_CONFIG, check_source

log = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
_STEP_DIR = re.compile(r"^step-(\d+)$")
# files of a checkpoint directory that are not processor/tokenizer files
_MODEL_FILES = re.compile(
    r"(\.safetensors|\.bin|\.pt|\.pth|\.index\.json|\.msgpack|\.h5)$"
    r"|^(config|generation_config|adapter_config)\.json$|^glyph_train\.json$"
)


# --- processor files ------------------------------------------------------------------------------
def save_processor(processor: Any, source: str, out: Path) -> None:
    """The base's tokenizer / processor files in ``out``, byte-identical when the base is local.

    Copying keeps the directory loadable by stock tools (vLLM's AutoProcessor) — the reader's own
    ``GlyphGlm4vProcessor`` would otherwise record its class name in processor_config.json.
    """
    out.mkdir(parents=True, exist_ok=True)
    base = Path(source)
    if base.is_dir():
        for item in base.iterdir():
            if item.is_file() and not _MODEL_FILES.search(item.name):
                shutil.copy2(item, out / item.name)
        return
    processor.save_pretrained(out)
    config = out / "processor_config.json"
    if config.is_file():
        data = json.loads(config.read_text(encoding="utf-8"))
        data["processor_class"] = "Glm4vProcessor"
        config.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")


# --- resumable checkpoints ------------------------------------------------------------------------
def checkpoint_dirs(output_dir: Path) -> list[Path]:
    folder = output_dir / CHECKPOINTS
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _STEP_DIR.match(p.name))]
    return [p for _, p in sorted(found) if (p / "state.json").is_file()]


def find_checkpoint(output_dir: Path, resume: str) -> Path | None:
    """``resume``: 'auto' (latest under OUT/checkpoints, None if there is none) or a directory."""
    if resume == "auto":
        dirs = checkpoint_dirs(output_dir)
        return dirs[-1] if dirs else None
    path = Path(resume)
    if not (path / "state.json").is_file():
        raise ConfigError(
            f"{resume} is not a training checkpoint (no state.json).",
            f"{resume} 不是训练检查点（缺少 state.json）。",
        )
    return path


def save_checkpoint(
    output_dir: Path,
    step: int,
    trainable: dict[str, Any],
    optimizer: Any,
    scheduler: Any,
    scaler: Any,
    state: dict[str, Any],
    keep: int,
) -> Path:
    import torch
    from safetensors.torch import save_file

    folder = output_dir / CHECKPOINTS / f"step-{step:06d}"
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file(
        {n: p.detach().cpu().contiguous() for n, p in trainable.items()},
        tmp / "trainable.safetensors",
    )
    torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
    if scaler is not None:
        torch.save(scaler.state_dict(), tmp / "scaler.pt")
    rng = {"python": random.getstate(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    torch.save(rng, tmp / "rng.pt")
    (tmp / "state.json").write_text(json.dumps({**state, "step": step}, indent=2), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)  # a checkpoint is complete or absent, never half-written
    for old in checkpoint_dirs(output_dir)[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
    log.info("checkpoint saved: %s", folder)
    return folder


def load_checkpoint(
    folder: Path, trainable: dict[str, Any], optimizer: Any, scheduler: Any, scaler: Any
) -> dict[str, Any]:
    """Restore tensors and states from ``folder``; returns its state.json."""
    import torch
    from safetensors.torch import load_file

    tensors = load_file(folder / "trainable.safetensors")
    missing = sorted(set(trainable) - set(tensors))
    if missing or set(tensors) - set(trainable):
        raise ConfigError(
            f"Checkpoint {folder} does not match this model's trainable parameters "
            f"(e.g. {(missing or sorted(set(tensors) - set(trainable)))[0]}): same config needed.",
            f"检查点 {folder} 与当前模型的可训练参数不一致，请使用相同的训练配置。",
        )
    with torch.no_grad():
        for name, param in trainable.items():
            param.copy_(tensors[name].to(param.device, param.dtype))
    optimizer.load_state_dict(torch.load(folder / "optimizer.pt", map_location="cpu"))
    scheduler.load_state_dict(torch.load(folder / "scheduler.pt", map_location="cpu"))
    if scaler is not None and (folder / "scaler.pt").is_file():
        scaler.load_state_dict(torch.load(folder / "scaler.pt", map_location="cpu"))
    rng = torch.load(folder / "rng.pt", map_location="cpu", weights_only=False)
    random.setstate(rng["python"])
    torch.set_rng_state(rng["torch"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    return json.loads((folder / "state.json").read_text(encoding="utf-8"))


# --- final outputs --------------------------------------------------------------------------------
def _meta(out: Path, meta: dict[str, Any]) -> None:
    (out / "glyph_train.json").write_text(
        json.dumps(meta, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )


def save_adapter(
    peft_model: Any, processor: Any, base: str, out: Path, meta: dict[str, Any]
) -> Path:
    """The LoRA adapter + processor files; ``base_model_name_or_path`` is the base as loaded."""
    out.mkdir(parents=True, exist_ok=True)
    peft_model.save_pretrained(out)
    config_path = out / ADAPTER_CONFIG
    config = json.loads(config_path.read_text(encoding="utf-8"))
    local = Path(base)
    config["base_model_name_or_path"] = str(local.resolve()) if local.is_dir() else base
    config["inference_mode"] = True
    config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    save_processor(processor, base, out)
    _meta(out, meta)
    return out


def save_full(model: Any, processor: Any, base: str, out: Path, meta: dict[str, Any]) -> Path:
    """A full checkpoint (tuned language model): ``save_pretrained`` + processor files."""
    model.config.use_cache = True
    model.config.text_config.use_cache = True
    model.save_pretrained(out)
    save_processor(processor, base, out)
    _meta(out, meta)
    return out


def merge_adapter(adapter: str | Path, out: str | Path, *, base: str | None = None) -> Path:
    """Fold a LoRA adapter into an unquantized copy of its base and save a full checkpoint.

    The base is loaded on the CPU without quantization (merging into 4-bit weights would
    re-quantize them) in the dtype its config.json records, so the result matches the base's
    size and dtype. ESTIMATE for the 9B: ~20 GB of RAM in bf16/fp16, a few minutes.
    """
    import torch
    from peft import PeftModel
    from transformers import AutoConfig

    from app.readers.vlm.loader import adapter_base, load_model
    from app.readers.vlm.quant import load_profile
    from app.settings import Settings

    adapter, out = str(adapter), Path(out)
    base = check_source(base) if base else adapter_base(adapter)
    dtype = getattr(AutoConfig.from_pretrained(base), "dtype", None) or torch.float32
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype)
    load_dtype = {torch.bfloat16: "bfloat16"}.get(dtype, "float32")  # fp16 on CPU: via fp32
    settings = Settings(_env_file=None, model=base, device="cpu", dtype=load_dtype)
    loaded = load_model(settings, load_profile("none"))
    merged = PeftModel.from_pretrained(loaded.model, adapter).merge_and_unload()
    merged.to(dtype)
    merged.save_pretrained(out)
    save_processor(loaded.processor, base, out)
    meta_path = Path(adapter, "glyph_train.json")
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    _meta(out, {**meta, "merged_from": adapter, "base": base})
    log.info("merged %s into %s → %s", adapter, base, out)
    return out
