"""In-process VLM reader: Glyph / GLM-4.1V checkpoints through transformers.

``VlmReader(settings)`` loads the checkpoint named by ``GLYPH_MODEL`` with the quantization
profile ``GLYPH_MODEL_PROFILE`` (configs/models/*.yaml). torch and transformers are imported when
a reader is built, not when this package is imported.
"""

from app.readers.vlm.reader import VlmReader

__all__ = ["VlmReader"]
