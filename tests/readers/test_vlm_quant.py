"""Quantization profiles: which Linear layers end up bitsandbytes 4-bit (on CPU here)."""

import pytest
import torch

from app.errors import ConfigError
from app.readers.vlm.loader import load_model
from app.readers.vlm.quant import (
    ModelProfile,
    available_profiles,
    linear_layout,
    load_profile,
    summarize_layout,
)
from tests.readers.test_vlm_reader import make_settings


def test_shipped_profiles_and_their_skip_lists():
    assert {"int4-vision", "int4-all", "none"} <= set(available_profiles())
    assert load_profile("int4-vision").skip_modules() == ["lm_head", "model.language_model"]
    assert load_profile("int4-all").skip_modules() == ["lm_head"]
    assert not load_profile("none").quantized
    assert load_profile("none").bnb_config(torch.float16) is None
    cfg = load_profile("int4-vision").bnb_config(torch.float16)
    assert cfg.load_in_4bit and cfg.bnb_4bit_quant_type == "nf4"
    assert cfg.llm_int8_skip_modules == ["lm_head", "model.language_model"]


def test_profile_by_path_and_unknown_profile(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("vision: fp16\nlanguage: int4\n", encoding="utf-8")
    profile = load_profile(str(path))
    assert profile.name == "mine" and profile.skip_modules() == ["lm_head", "model.visual"]
    with pytest.raises(ConfigError, match="int4-vision"):
        load_profile("int8-everything")
    path.write_text("vision: int3\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_profile(str(path))


def test_bare_module_names_would_not_skip_anything():
    # why the profiles list full dotted paths: transformers 5 matches skip entries from the start
    # of the full name or as its suffix, so "visual" does not cover "model.visual.blocks.0.…"
    from transformers.quantizers.quantizers_utils import should_convert_module

    name = "model.visual.blocks.0.attn.qkv"
    assert should_convert_module(name, ["visual"])
    assert not should_convert_module(name, ["model.visual"])
    assert not should_convert_module(
        "model.language_model.layers.1.mlp.down_proj", ["model.language_model"]
    )


EXPECTED = {
    # part -> (4-bit layers?, ...) for vision, language, lm_head
    "int4-vision": {"vision": True, "language": False, "lm_head": False},
    "int4-all": {"vision": True, "language": True, "lm_head": False},
    "none": {"vision": False, "language": False, "lm_head": False},
}


@pytest.mark.parametrize("profile", sorted(EXPECTED))
def test_linear_layers_per_profile_on_cpu(tiny_vlm_dir, tmp_path, profile):
    settings = make_settings(tiny_vlm_dir, tmp_path, model_profile=profile)
    loaded = load_model(settings, load_profile(profile))
    layout = linear_layout(loaded.model)
    parts = summarize_layout(layout)
    assert set(parts) == {"vision", "language", "lm_head"}
    for part, quantized in EXPECTED[profile].items():
        counts = parts[part]
        if quantized:
            assert counts["full"] == 0 and counts["4bit"] > 0, (part, counts)
        else:
            assert counts["4bit"] == 0 and counts["full"] > 0, (part, counts)
    assert loaded.layout == parts
    # the 4-bit model runs: one forward pass on a page gives finite logits
    from PIL import Image

    from app.readers.vlm.prompts import chat_prompt

    proc = loaded.processor
    prefix, suffix = chat_prompt(proc, 1, "What?")
    inputs = proc(
        text=[prefix + suffix], images=[Image.new("RGB", (112, 84), "white")], return_tensors="pt"
    )
    with torch.no_grad():
        logits = loaded.model(**inputs).logits
    assert torch.isfinite(logits).all()


def test_profile_model_validates_precisions():
    with pytest.raises(ValueError):
        ModelProfile(name="x", vision="int8")
