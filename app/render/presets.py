"""Render presets and config resolution: preset names, Glyph JSON files, field overrides.

Presets live in ``configs/render/*.json`` (Glyph's own key names). ``en`` and ``zh`` carry the
values of Glyph's published post-training configs; ``fine``, ``medium`` and ``coarse`` trade
compression for legibility (see ``configs/render/README.md``). ``auto`` picks ``zh`` or ``en``
from the script of the text. The same presets are built into this module so an installed wheel
(without the repository's ``configs/``) behaves the same; a test keeps both in sync.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.datamodel import RenderConfig
from app.errors import ConfigError
from app.text import detect_language

log = logging.getLogger(__name__)

PRESET_DIR = Path(__file__).resolve().parents[2] / "configs" / "render"

_GLYPH_BASE: dict[str, Any] = {
    "page-size": "595,842",
    "dpi": 72,
    "margin-x": 10,
    "margin-y": 10,
    "font-size": 9,
    "line-height": 10,
    "font-color": "#000000",
    "alignment": "LEFT",
    "horizontal-scale": 1.0,
    "first-line-indent": 0,
    "left-indent": 0,
    "right-indent": 0,
    "space-after": 0,
    "space-before": 0,
    "border-width": 0,
    "border-padding": 0,
    "page-bg-color": "#FFFFFF",
    "para-bg-color": "#FFFFFF",
    "auto-crop-width": True,
    "auto-crop-last-page": True,
    "newline-markup": '<font color="#FF0000"> \\n </font>',
}

BUILTIN_PRESETS: dict[str, dict[str, Any]] = {
    "en": {"name": "en", "language": "en", **_GLYPH_BASE, "font-path": "DejaVuSans.ttf"},
    "zh": {"name": "zh", "language": "zh", **_GLYPH_BASE, "font-path": "NotoSansCJK-Regular.ttc#2"},
    "fine": {"name": "fine", "language": "auto", **_GLYPH_BASE, "dpi": 120},
    "medium": {"name": "medium", "language": "auto", **_GLYPH_BASE, "dpi": 96},
    "coarse": {
        "name": "coarse",
        "language": "auto",
        **_GLYPH_BASE,
        "font-size": 8,
        "line-height": 9,
        "margin-x": 8,
        "margin-y": 8,
    },
}
PRESET_NAMES = ("auto", *BUILTIN_PRESETS)

_FIELDS = {
    **{name: name for name in RenderConfig.model_fields},
    **{name.replace("_", "-"): name for name in RenderConfig.model_fields},
}


def _invalid(what: str, err: Exception) -> ConfigError:
    return ConfigError(
        f"Invalid render config {what}: {err}",
        f"渲染配置 {what} 无效：{err}",
        detail=repr(err),
    )


def _validate(data: dict[str, Any], what: str) -> RenderConfig:
    try:
        return RenderConfig.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'config'}: {e['msg']}" for e in err.errors()
        )
        raise ConfigError(
            f"Invalid render config {what}: {problems}",
            f"渲染配置 {what} 无效：{problems}",
            detail=str(err),
        ) from None


def load_preset(name: str) -> RenderConfig:
    """A named preset from ``configs/render/NAME.json`` (or the built-in copy)."""
    path = PRESET_DIR / f"{name}.json"
    if path.is_file():
        return load_json(path)
    if name in BUILTIN_PRESETS:
        return _validate(BUILTIN_PRESETS[name], repr(name))
    raise ConfigError(
        f"Unknown render preset {name!r}; choose one of {', '.join(PRESET_NAMES)} or give a JSON path.",
        f"未知的渲染预设 {name!r}；可选 {', '.join(PRESET_NAMES)}，或给出 JSON 配置文件路径。",
    )


def load_json(path: str | Path) -> RenderConfig:
    """A Glyph-style JSON config; a relative ``font-path`` is resolved next to the file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(
            f"Cannot read render config {str(path)!r}: {err.strerror or err}",
            f"无法读取渲染配置 {str(path)!r}：{err.strerror or err}",
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise _invalid(repr(str(path)), err) from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"Render config {str(path)!r} must be a JSON object.",
            f"渲染配置 {str(path)!r} 必须是 JSON 对象。",
        )
    data.setdefault("name", path.stem)
    font = data.get("font-path", data.get("font_path"))
    if isinstance(font, str) and font and not Path(font).is_absolute():
        local = (path.parent / font.split("#")[0]).resolve()
        if local.is_file():
            suffix = font[len(font.split("#")[0]) :]
            data["font-path" if "font-path" in data else "font_path"] = str(local) + suffix
    return _validate(data, repr(str(path)))


def resolve_config(
    spec: RenderConfig | str | None = None, text: str = "", **overrides: Any
) -> RenderConfig:
    """A ``RenderConfig`` from a config, a preset name ('auto' picks zh/en by the script of
    ``text``) or a JSON path, with single fields replaced by ``overrides`` (Python names)."""
    if isinstance(spec, RenderConfig):
        config = spec
    else:
        name = (spec or "auto").strip()
        key = name.lower()
        if key == "auto":
            config = load_preset(detect_language(text))
        elif key in BUILTIN_PRESETS or (PRESET_DIR / f"{key}.json").is_file():
            config = load_preset(key)
        elif Path(name).expanduser().is_file():
            config = load_json(Path(name).expanduser())
        else:
            raise ConfigError(
                f"Unknown render preset or missing config file {name!r}; choose one of "
                f"{', '.join(PRESET_NAMES)} or give the path of a JSON config.",
                f"未知的渲染预设或找不到配置文件 {name!r}；可选 {', '.join(PRESET_NAMES)}，"
                "或给出 JSON 配置文件路径。",
            )
    if not overrides:
        return config
    unknown = sorted(k for k in overrides if k not in _FIELDS)
    if unknown:
        raise ConfigError(
            f"Unknown render setting(s): {', '.join(unknown)}.",
            f"未知的渲染参数：{', '.join(unknown)}。",
        )
    data = config.model_dump()
    for key, value in overrides.items():
        data[_FIELDS[key]] = value
    return _validate(data, "override")
