"""Training config: YAML presets, overrides as the CLI gives them, validation (en + zh)."""

import pytest

from app.errors import ConfigError
from app.train.config import LORA_TARGETS, TrainConfig, available_configs, load_train_config


def test_presets_load_and_differ_where_documented():
    assert {"lora", "qlora", "full"} <= set(available_configs())
    lora, qlora, full = (load_train_config(n) for n in ("lora", "qlora", "full"))
    assert (lora.tune, lora.effective_profile, lora.freeze_vision) == ("lora", "int4-vision", True)
    assert lora.lora_targets == list(LORA_TARGETS)
    assert qlora.qlora and qlora.effective_profile == "int4-all"
    assert (full.tune, full.effective_profile) == ("full", "none")
    # the YAML states every default of the dataclass, so the file documents what runs
    assert lora == TrainConfig()


def test_overrides_are_coerced_from_strings():
    cfg = load_train_config(
        "lora",
        max_steps="3",
        learning_rate="0.01",
        merge="true",
        lora_targets="q_proj, v_proj",
        render_overrides="{dpi: 96}",
        base_model=None,  # None = flag not given: the file's value stays
    )
    assert (cfg.max_steps, cfg.learning_rate, cfg.merge) == (3, 0.01, True)
    assert cfg.lora_targets == ["q_proj", "v_proj"]
    assert cfg.render_overrides == {"dpi": 96}
    assert cfg.base_model is None


def test_yaml_path(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("tune: lora\nlora_r: 4\ngrad_accum: 2\n", encoding="utf-8")
    cfg = load_train_config(str(path))
    assert (cfg.lora_r, cfg.grad_accum, cfg.batch_size) == (4, 2, 1)


@pytest.mark.parametrize(
    ("spec", "overrides", "needle"),
    [
        ("nope", {}, "Unknown training config 'nope'"),
        ("lora", {"lerning_rate": 1}, "Unknown training config keys: lerning_rate"),
        ("lora", {"precision": "fp8"}, "precision"),
        ("lora", {"merge": "maybe"}, "true/false"),
        ("lora", {"grad_accum": 0}, "grad_accum must be ≥ 1"),
        ("lora", {"tune": "full"}, "profile: none"),
        ("full", {"qlora": True}, "profile: none"),
        ("full", {"merge": True}, "merge applies to LoRA"),
        ("lora", {"answer_template": "<answer></answer>"}, "{answer}"),
    ],
)
def test_invalid_configs_raise_bilingual_errors(spec, overrides, needle):
    with pytest.raises(ConfigError) as info:
        load_train_config(spec, **overrides)
    assert needle in info.value.en
    assert info.value.zh and info.value.zh != info.value.en
