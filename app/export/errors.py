"""The export package's user-facing error (en + zh, like every ``app.errors`` class)."""

from __future__ import annotations

from app.errors import GlyphError


class ExportError(GlyphError):
    """The ONNX export, quantization, or ONNX runtime of the vision encoder failed."""

    code = "export"
