"""Checkpoint files: rotation, resume lookup, processor files, adapters whose base is missing."""

import json

import pytest
import torch

from app.errors import ConfigError, ReaderError
from app.readers.vlm.loader import load_model
from app.readers.vlm.quant import load_profile
from app.settings import Settings
from app.train.checkpoint import (
    checkpoint_dirs,
    find_checkpoint,
    load_checkpoint,
    save_checkpoint,
    save_processor,
)
from app.train.model import resolve_precision


def test_checkpoints_rotate_and_restore(tmp_path):
    param = torch.nn.Parameter(torch.ones(3))
    optimizer = torch.optim.AdamW([param], lr=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0)
    for step in (2, 4, 6):
        param.grad = torch.ones(3)
        optimizer.step()
        scheduler.step()
        save_checkpoint(
            tmp_path, step, {"w": param}, optimizer, scheduler, None, {"plan": 1}, keep=2
        )
    assert [p.name for p in checkpoint_dirs(tmp_path)] == ["step-000004", "step-000006"]
    assert find_checkpoint(tmp_path, "auto").name == "step-000006"
    assert find_checkpoint(tmp_path / "empty", "auto") is None
    with pytest.raises(ConfigError, match="not a training checkpoint"):
        find_checkpoint(tmp_path, str(tmp_path / "nope"))
    saved = param.detach().clone()
    with torch.no_grad():
        param.zero_()
    state = load_checkpoint(
        find_checkpoint(tmp_path, "auto"), {"w": param}, optimizer, scheduler, None
    )
    assert state["step"] == 6 and state["plan"] == 1
    assert torch.equal(param.detach(), saved)
    with pytest.raises(ConfigError, match="does not match"):
        load_checkpoint(checkpoint_dirs(tmp_path)[-1], {"other": param}, optimizer, scheduler, None)


def test_processor_files_from_a_hub_base_name_the_stock_class(tiny_vlm_dir, tmp_path):
    from app.readers.vlm.processor import GlyphGlm4vProcessor

    processor = GlyphGlm4vProcessor.from_pretrained(tiny_vlm_dir)
    save_processor(processor, "zai-org/Glyph", tmp_path / "hub")  # not a local dir: re-saved
    config = json.loads((tmp_path / "hub" / "processor_config.json").read_text())
    assert config["processor_class"] == "Glm4vProcessor"
    again = GlyphGlm4vProcessor.from_pretrained(tmp_path / "hub")
    text = "发票号码 BX-5104"
    assert again.tokenizer(text)["input_ids"] == processor.tokenizer(text)["input_ids"]
    assert again.image_tokens(560, 280) == processor.image_tokens(560, 280)
    save_processor(processor, str(tiny_vlm_dir), tmp_path / "local")  # local: copied as is
    for name in ("tokenizer.json", "preprocessor_config.json", "chat_template.jinja"):
        assert (tmp_path / "local" / name).read_bytes() == (tiny_vlm_dir / name).read_bytes()
    assert not (tmp_path / "local" / "model.safetensors").exists()
    assert not (tmp_path / "local" / "config.json").exists()


def test_adapter_whose_base_is_gone_is_a_reader_error(tmp_path):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(
        json.dumps({"peft_type": "LORA", "base_model_name_or_path": str(tmp_path / "moved")})
    )
    settings = Settings(_env_file=None, model=str(adapter), device="cpu", data_dir=tmp_path)
    with pytest.raises(ReaderError) as info:
        load_model(settings, load_profile("none"))
    assert "needs its base model" in info.value.en and "app.train merge" in info.value.en
    assert "基础模型" in info.value.zh


def test_precision_per_device_and_tuning(monkeypatch):
    assert resolve_precision("bf16", "cpu", "lora").name == "fp32"  # CPU always trains in fp32
    lora_bf16 = resolve_precision("bf16", "cuda", "lora")
    assert (lora_bf16.load_dtype, lora_bf16.autocast, lora_bf16.scaler) == (
        "bfloat16",
        torch.bfloat16,
        False,
    )
    assert resolve_precision("bf16", "cuda", "full").autocast is None  # pure bf16 weights
    fp16 = resolve_precision("fp16", "cuda", "lora")
    assert (fp16.load_dtype, fp16.autocast, fp16.scaler) == ("float16", torch.float16, True)
    assert resolve_precision("fp16", "cuda", "full").load_dtype == "float32"  # fp32 master weights
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert resolve_precision("auto", "cuda", "lora").name == "fp16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert resolve_precision("auto", "cuda", "lora").name == "bf16"
