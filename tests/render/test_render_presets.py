"""Presets, Glyph JSON configs and overrides (resolve_config)."""

import json
import logging
import shutil
from pathlib import Path

import pytest

from app.datamodel import RenderConfig
from app.errors import ConfigError
from app.render import PRESET_NAMES, render, resolve_config
from app.render.fonts import DEJAVU_SANS, find_font
from app.render.presets import BUILTIN_PRESETS, PRESET_DIR
from app.text import detect_language

GLYPH_VALUES = {
    "page-size": "595,842",
    "dpi": 72,
    "margin-x": 10,
    "margin-y": 10,
    "font-size": 9,
    "line-height": 10,
    "auto-crop-width": True,
    "auto-crop-last-page": True,
}


def test_preset_files_match_the_built_in_copies():
    names = sorted(p.stem for p in PRESET_DIR.glob("*.json"))
    assert names == sorted(BUILTIN_PRESETS)
    for name in names:
        on_disk = json.loads((PRESET_DIR / f"{name}.json").read_text(encoding="utf-8"))
        assert on_disk == BUILTIN_PRESETS[name], name


@pytest.mark.parametrize("name", ["en", "zh"])
def test_en_and_zh_carry_glyphs_values_under_glyphs_keys(name):
    data = json.loads((PRESET_DIR / f"{name}.json").read_text(encoding="utf-8"))
    for key, value in GLYPH_VALUES.items():
        assert data[key] == value, key
    config = resolve_config(name)
    assert config.page_pixels == (595, 842)
    assert config.newline_markup == '<font color="#FF0000"> \\n </font>'


def test_fine_medium_coarse_trade_resolution_for_compression():
    text = "The quick brown fox jumps over the lazy dog. " * 400
    tokens = {
        n: render(text, resolve_config(n)).stats.visual_tokens for n in ("fine", "medium", "coarse")
    }
    assert tokens["fine"] > tokens["medium"] > tokens["coarse"]


def test_auto_picks_the_preset_by_script():
    assert detect_language("Hello world, this is English.") == "en"
    assert detect_language("这是一个中文句子，用来测试。") == "zh"
    assert detect_language("A long English text with one name 张三 in it. " * 5) == "en"
    assert resolve_config("auto", text="这是中文").name == "zh"
    assert resolve_config(None, text="plain English").name == "en"
    assert set(PRESET_NAMES) >= {"auto", "en", "zh", "fine", "medium", "coarse"}


def test_overrides_accept_python_and_glyph_names():
    config = resolve_config("en", font_size=10, dpi=96)
    assert (config.font_size, config.dpi) == (10, 96)
    assert resolve_config(config, **{"margin-x": 4}).margin_x == 4
    assert resolve_config("en").font_size == 9  # presets are not modified by overrides


def test_bad_names_values_and_paths_raise_config_errors_in_both_languages(tmp_path):
    cases = [
        lambda: resolve_config("no-such-preset"),
        lambda: resolve_config(str(tmp_path / "missing.json")),
        lambda: resolve_config("en", fontsize=3),
        lambda: resolve_config("en", dpi=5),
    ]
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    cases.append(lambda: resolve_config(str(broken)))
    not_object = tmp_path / "list.json"
    not_object.write_text("[1, 2]")
    cases.append(lambda: resolve_config(str(not_object)))
    for case in cases:
        with pytest.raises(ConfigError) as info:
            case()
        assert info.value.en and info.value.zh and info.value.en != info.value.zh


def test_glyphs_published_config_loads_and_falls_back_from_missing_fonts(tmp_path, caplog):
    glyph_config = {
        **GLYPH_VALUES,
        "font-path": "../config/Verdana.ttf",
        "font-color": "#000000",
        "alignment": "LEFT",
        "newline-markup": "<br/>",
    }
    path = tmp_path / "config_en.json"
    path.write_text(json.dumps(glyph_config))
    config = resolve_config(str(path))
    assert config.name == "config_en"
    with caplog.at_level(logging.WARNING, logger="app.render.fonts"):
        from app.render import fonts

        fonts._warned.discard("missing:../config/Verdana.ttf")
        doc = render("Hello 世界", config)
    assert "Verdana" in caplog.text
    assert len(doc.pages) == 1 and (doc.layout.page >= 0).all()


def test_relative_font_path_resolves_next_to_the_json(tmp_path):
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    shutil.copy(find_font(DEJAVU_SANS).path, fonts / "MyFont.ttf")
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({**GLYPH_VALUES, "font-path": "fonts/MyFont.ttf"}))
    config = resolve_config(str(path))
    assert Path(config.font_path) == (fonts / "MyFont.ttf").resolve()
    assert isinstance(config, RenderConfig)
