"""Typed errors with a user-facing message in English and Chinese.

Everything that can go wrong because of the user's input or environment raises a subclass of
``GlyphError``; the UI and CLI show ``user_message(lang)`` and never a traceback.
"""

from __future__ import annotations


class GlyphError(Exception):
    """Base class: ``en`` and ``zh`` are complete sentences shown to the user."""

    code = "error"

    def __init__(self, en: str, zh: str | None = None, *, detail: str | None = None) -> None:
        super().__init__(en)
        self.en = en
        self.zh = zh or en
        self.detail = detail  # for logs only

    def user_message(self, lang: str = "en") -> str:
        return self.zh if lang.startswith("zh") else self.en

    def __str__(self) -> str:
        return self.en


class IngestError(GlyphError):
    """The file or text cannot be read (bad format, encrypted, too large, empty, …)."""

    code = "ingest"


class LimitError(IngestError):
    """An input exceeds a configured limit; the message names the limit and its setting."""

    code = "limit"


class RenderError(GlyphError):
    """The text cannot be rendered with the requested configuration."""

    code = "render"


class ConfigError(GlyphError):
    """A configuration file or preset is invalid or missing."""

    code = "config"


class ReaderError(GlyphError):
    """A reader failed (model missing, out of memory, server unreachable, …)."""

    code = "reader"


class ExportError(GlyphError):
    """The ONNX export, quantization, or ONNX runtime of the vision encoder failed."""

    code = "export"


class MissingExtraError(GlyphError):
    """An optional dependency group is not installed."""

    code = "missing_extra"

    def __init__(self, extra: str, module: str) -> None:
        super().__init__(
            f"This feature needs the '{extra}' extra ({module} is not installed): "
            f"pip install 'glyph-visual-reasoning[{extra}]'",
            f"此功能需要安装可选依赖 '{extra}'（缺少 {module}）：pip install 'glyph-visual-reasoning[{extra}]'",
        )
