"""Run the exported vision encoder with onnxruntime: page image in, visual features out.

Needs only onnxruntime, numpy and Pillow (the edge-device set): the preprocessing settings and
the model facts come from the ONNX file's metadata, the preprocessing itself from
``app.readers.vlm.onnx_preprocess`` (the processor's steps in numpy). One page per run; the
features of a page are ``(grid_h/2 · grid_w/2, out_hidden_size)`` float32 — the rows the language
model gets in place of the page's ``<|image|>`` tokens, the same as
``get_image_features(...).pooler_output``. ``scripts/export_onnx.py`` (``app.export``) writes the
files this runs.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.errors import ExportError, MissingExtraError
from app.readers.vlm.onnx_preprocess import PreprocessConfig, encoder_inputs, preprocess_image

log = logging.getLogger(__name__)

METADATA_KEY = "glyph.vision_encoder"
OUTPUT_NAME = "image_features"


@dataclass
class VisualFeatures:
    features: np.ndarray  # (tokens, out_hidden_size) float32
    grid_thw: tuple[int, int, int]  # patch grid, as the processor's image_grid_thw row
    preprocess_s: float
    encode_s: float

    @property
    def tokens(self) -> int:
        return int(self.features.shape[0])


def make_session(path: str | Path, *, threads: int | None = None) -> Any:
    """An onnxruntime CPU session with full graph optimisation (``threads`` intra-op threads)."""
    try:
        import onnxruntime as ort
    except ImportError as err:
        raise MissingExtraError("export", "onnxruntime") from err
    path = Path(path)
    if not path.is_file():
        raise ExportError(
            f"ONNX model {path} does not exist (run scripts/export_onnx.py first).",
            f"ONNX 模型 {path} 不存在（请先运行 scripts/export_onnx.py）。",
        )
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # warnings about unused initializers etc. are noise here
    if threads:
        options.intra_op_num_threads = int(threads)
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime's own exception types are not importable portably
        raise ExportError(
            f"onnxruntime cannot load {path}: {err}",
            f"onnxruntime 无法加载 {path}：{err}",
            detail=repr(err),
        ) from err


def read_metadata(session: Any) -> dict[str, Any]:
    """The export's facts (``vision``, ``preprocess``, …) stored in the model file."""
    props = session.get_modelmeta().custom_metadata_map
    raw = props.get(METADATA_KEY)
    if raw is None:
        raise ExportError(
            "This ONNX file was not written by scripts/export_onnx.py (no vision-encoder metadata).",
            "该 ONNX 文件不是由 scripts/export_onnx.py 导出的（缺少视觉编码器元数据）。",
        )
    data = json.loads(raw)
    if "glyph.quantization" in props:
        data["quantization"] = props["glyph.quantization"]
    return data


class VisionEncoderRunner:
    """The exported GLM-4.1V vision encoder on onnxruntime (CPU)."""

    def __init__(
        self,
        path: str | Path,
        *,
        threads: int | None = None,
        preprocess: PreprocessConfig | None = None,
    ) -> None:
        self.path = Path(path)
        self.session = make_session(self.path, threads=threads)
        self.metadata = read_metadata(self.session)
        self.preprocess = preprocess or PreprocessConfig.from_dict(self.metadata["preprocess"])
        self.merge_size = int(self.metadata["vision"]["spatial_merge_size"])
        self.out_hidden_size = int(self.metadata["vision"]["out_hidden_size"])
        self.quantization = self.metadata.get("quantization", "none")

    def prepare(self, image: Any) -> tuple[dict[str, np.ndarray], tuple[int, int, int]]:
        """The ONNX inputs for one page image and its (1, grid_h, grid_w)."""
        pixels, grid_h, grid_w = preprocess_image(image, self.preprocess)
        return encoder_inputs(pixels, grid_h, grid_w, self.merge_size), (1, grid_h, grid_w)

    def run(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        return self.session.run([OUTPUT_NAME], inputs)[0]

    def encode(self, image: Any) -> VisualFeatures:
        """Visual features of one page image (a ``PIL.Image``)."""
        started = time.perf_counter()
        inputs, grid = self.prepare(image)
        prepared = time.perf_counter()
        features = self.run(inputs)
        done = time.perf_counter()
        return VisualFeatures(features, grid, prepared - started, done - prepared)

    def encode_pages(self, images: Iterable[Any]) -> list[VisualFeatures]:
        return [self.encode(image) for image in images]
