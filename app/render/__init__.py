"""The renderer: text → dense page images plus the layout of every character.

``render(text, config)`` typesets text with a ``RenderConfig`` (Glyph-compatible keys) into
in-memory page images (PNG encoded lazily), records a ``LayoutMap`` and token statistics.
``resolve_config`` turns a preset name, JSON path or config plus overrides into a
``RenderConfig``. See docs/ARCHITECTURE.md.
"""

from app.render.engine import render
from app.render.presets import PRESET_NAMES, load_preset, resolve_config
from app.render.tokens import estimate_text_tokens, visual_tokens

__all__ = [
    "PRESET_NAMES",
    "estimate_text_tokens",
    "load_preset",
    "render",
    "resolve_config",
    "visual_tokens",
]
