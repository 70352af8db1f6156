"""The VLM reader with the ONNX vision encoder: onnxruntime for the pages, PyTorch for the text.

``OnnxVisionEngine`` is the reader's ``VlmEngine`` with ``encode_pages`` running the exported
encoder (``VisionEncoderRunner``) instead of ``model.model.get_image_features``; prefill, caches
and decoding are the parent's. ``use_onnx_vision(reader, path)`` switches a loaded ``VlmReader``
to it. Feature and prefix caches are keyed with the ONNX file too, so features of the two encoders
never mix. The PyTorch vision tower stays loaded (nothing else in the reader is changed).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.errors import ExportError
from app.readers.vlm.cache import PageFeatures
from app.readers.vlm.engine import VlmEngine
from app.readers.vlm.loader import LoadedModel
from app.readers.vlm.onnx_runner import VisionEncoderRunner

log = logging.getLogger(__name__)


class OnnxVisionEngine(VlmEngine):
    def __init__(self, loaded: LoadedModel, onnx_path: str | Path, *, threads: int | None = None):
        super().__init__(loaded)
        self.runner = VisionEncoderRunner(onnx_path, threads=threads)
        vision = self.runner.metadata["vision"]
        text_hidden = int(self.model.config.text_config.hidden_size)
        merge = int(self.model.config.vision_config.spatial_merge_size)
        if vision["out_hidden_size"] != text_hidden or vision["spatial_merge_size"] != merge:
            raise ExportError(
                f"{onnx_path} was exported from a different model (features of size "
                f"{vision['out_hidden_size']}, the language model takes {text_hidden}).",
                f"{onnx_path} 导出自另一个模型（特征维度 {vision['out_hidden_size']}，"
                f"语言模型需要 {text_hidden}）。",
            )
        self._model_key += f"|onnx:{Path(onnx_path).resolve()}|{self.runner.quantization}"
        self.vision_s = 0.0  # onnxruntime time spent (for benchmarks)

    def encode_pages(self, images: Sequence[Any], hashes: Sequence[str]) -> list[PageFeatures]:
        """Vision features of every page, running onnxruntime only on pages not cached."""
        import torch

        dtype = self.model.get_input_embeddings().weight.dtype
        found, missing = self._cached_features(hashes)
        if missing:
            self.vision_runs += 1
        for i in missing:
            result = self.runner.encode(images[i])
            self.vision_s += result.encode_s
            page = PageFeatures(torch.from_numpy(result.features).to(dtype), result.grid_thw)
            found[i] = page
            self.features.put(self._feature_key(hashes[i]), page)
        return [found[i] for i in range(len(hashes))]


def use_onnx_vision(reader: Any, onnx_path: str | Path, *, threads: int | None = None) -> Any:
    """Switch a loaded ``VlmReader`` to the ONNX vision encoder; returns the new engine."""
    engine = OnnxVisionEngine(reader.loaded, onnx_path, threads=threads)
    reader.engine.clear()
    reader.engine = engine
    log.info("VLM reader: vision encoder from %s (%s)", onnx_path, engine.runner.quantization)
    return engine
