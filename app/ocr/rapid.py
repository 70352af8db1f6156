"""The default OCR engine: rapidocr's bundled ONNX models (no download, no network).

Text detection runs through rapidocr's own pipeline (``use_cls=False``: rendered text is always
upright, and the angle classifier sometimes turns it upside down). Recognition runs here directly
on ONNX Runtime, so that the crop (1.6 line pitches tall: best accuracy at 72 dpi), the batching
(several batches at once, one per core) and the CTC decoding keep every character's x position —
which is what maps a read character back to the rendered text.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from app.datamodel import Box
from app.errors import MissingExtraError, ReaderError
from app.ocr.base import (
    POSTPROCESS,
    OcrLine,
    add_gap_spaces,
    merge_rows,
    split_markers,
    with_markers,
)

log = logging.getLogger(__name__)

REC_HEIGHT = 48  # the recogniser's fixed input height
REC_STRIDE = 8  # input pixels per CTC time step
CROP_PITCH = 1.6  # crop height as a multiple of the line pitch: best accuracy at 72 dpi
BATCH = 4  # lines per recogniser call; several calls run at once (one per core)


def _ort_threads() -> int:
    env = os.environ.get("GLYPH_OCR_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(8, os.cpu_count() or 1))


def _rapidocr_models() -> tuple[Path, Path]:
    try:
        import rapidocr
    except ImportError as err:
        raise MissingExtraError("ocr", "rapidocr") from err
    models = Path(rapidocr.__file__).resolve().parent / "models"
    det = sorted(models.glob("*det*.onnx"))
    rec = sorted(models.glob("*rec*.onnx"))
    if not det or not rec:
        raise ReaderError(
            f"rapidocr's bundled models were not found in {models}; reinstall rapidocr.",
            f"未在 {models} 找到 rapidocr 自带的模型，请重新安装 rapidocr。",
        )
    return det[-1], rec[-1]


class RapidEngine:
    """Detection with rapidocr's pipeline; recognition on ONNX Runtime with character positions."""

    name = "rapidocr"

    def __init__(self, threads: int | None = None) -> None:
        import onnxruntime as ort
        from rapidocr import RapidOCR

        det_path, rec_path = _rapidocr_models()
        self.threads = threads or _ort_threads()
        self.version = f"{det_path.stem}+{rec_path.stem}+crop{CROP_PITCH}+post{POSTPROCESS}"
        # use_cls=False: upright rendered text would otherwise sometimes be read upside down
        self._det = RapidOCR(
            params={
                "Global.use_cls": False,
                "Global.use_rec": False,
                "Global.log_level": "warning",
                "Det.model_path": str(det_path),
                "EngineConfig.onnxruntime.intra_op_num_threads": self.threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # parallel over batches instead (see _recognise)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._rec = ort.InferenceSession(str(rec_path), options, providers=["CPUExecutionProvider"])
        meta = self._rec.get_modelmeta().custom_metadata_map
        if "character" not in meta:
            raise ReaderError(
                f"The recognition model {rec_path.name} carries no character list.",
                f"识别模型 {rec_path.name} 缺少字符表。",
            )
        # CTC classes: blank, the model's characters, then space (PaddleOCR's convention)
        self._chars = ["", *meta["character"].splitlines(), " "]
        self._rec_input = self._rec.get_inputs()[0].name
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="ocr-rec")

    # -- detection --------------------------------------------------------------------------
    def _detect(self, rgb: np.ndarray) -> list[Box]:
        result = self._det(rgb, use_det=True, use_cls=False, use_rec=False)
        boxes = getattr(result, "boxes", None)
        if boxes is None or len(boxes) == 0:
            return []
        out = []
        for quad in np.asarray(boxes, dtype=np.float32):
            out.append(
                (
                    float(quad[:, 0].min()),
                    float(quad[:, 1].min()),
                    float(quad[:, 0].max()),
                    float(quad[:, 1].max()),
                )
            )
        return out

    # -- recognition ------------------------------------------------------------------------
    def _crops(
        self, gray: np.ndarray, boxes: list[Box]
    ) -> list[tuple[np.ndarray, float, float, Box]]:
        """(resized crop, x offset, scale, box) per detected box, cropped around its centre line."""
        import cv2

        centres = sorted((b[1] + b[3]) / 2 for b in boxes)
        diffs = [b - a for a, b in itertools.pairwise(centres) if b - a > 2]
        heights = sorted(b[3] - b[1] for b in boxes)
        pitch = float(np.median(diffs)) if diffs else heights[len(heights) // 2] / 1.6
        pitch = min(pitch, heights[len(heights) // 2])  # columns side by side: trust the box
        self._pitch = pitch
        half = CROP_PITCH * pitch / 2
        h, w = gray.shape
        out = []
        for box in boxes:
            yc = (box[1] + box[3]) / 2
            # a box much taller than the pitch is one larger line (a heading): keep it whole
            half_b = max(half, (box[3] - box[1]) / 2) if box[3] - box[1] > 2 * pitch else half
            y0, y1 = max(0, round(yc - half_b)), min(h, round(yc + half_b))
            x0, x1 = max(0, int(box[0]) - 2), min(w, int(np.ceil(box[2])) + 2)
            if y1 - y0 < 4 or x1 - x0 < 4:
                continue
            crop = gray[y0:y1, x0:x1]
            scale = REC_HEIGHT / crop.shape[0]
            width = max(REC_STRIDE, round(crop.shape[1] * scale))
            resized = cv2.resize(crop, (width, REC_HEIGHT), interpolation=cv2.INTER_LINEAR)
            out.append((resized, float(x0), scale, (float(x0), float(y0), float(x1), float(y1))))
        return out

    def _recognise(
        self,
        crops: list[tuple[np.ndarray, float, float, Box]],
        pause: Callable[[], None] | None = None,
    ) -> list[OcrLine]:
        # batches of similar width (little padding), run on all cores at once: one session per
        # batch-thread scales better than intra-op threads on these small convolutions
        order = sorted(range(len(crops)), key=lambda i: crops[i][0].shape[1])
        batches = [order[k : k + BATCH] for k in range(0, len(order), BATCH)]
        # with ``pause``: one batch per core at a time, ``pause()`` before each such wave (in
        # this thread: a pool thread held there would hold up the question it gives way to)
        wave = len(batches) if pause is None else self.threads
        lines: list[OcrLine | None] = [None] * len(crops)
        for w in range(0, len(batches), wave):
            if pause is not None:
                pause()
            chunk = batches[w : w + wave]
            for idx, decoded in zip(
                chunk, self._pool.map(lambda ids: self._run_batch(crops, ids), chunk), strict=True
            ):
                for i, line in zip(idx, decoded, strict=True):
                    lines[i] = line
        return [line for line in lines if line is not None and line.text.strip()]

    def _run_batch(
        self, crops: list[tuple[np.ndarray, float, float, Box]], idx: list[int]
    ) -> list[OcrLine]:
        width = max(crops[i][0].shape[1] for i in idx)
        batch = np.ones((len(idx), 3, REC_HEIGHT, width), np.float32)  # white padding
        for j, i in enumerate(idx):
            img = crops[i][0].astype(np.float32) / 127.5 - 1.0
            batch[j, :, :, : img.shape[1]] = img[None]
        preds = self._rec.run(None, {self._rec_input: batch})[0]
        steps = preds.shape[1]
        out = []
        for j, i in enumerate(idx):
            _, x0, scale, box = crops[i]
            valid = min(steps, int(np.ceil(crops[i][0].shape[1] * steps / width)))
            out.append(self._decode(preds[j, :valid], width / steps, x0, scale, box))
        return out

    def _decode(
        self, pred: np.ndarray, step_px: float, x0: float, scale: float, box: Box
    ) -> OcrLine:
        idx = pred.argmax(axis=1)
        prob = pred.max(axis=1)
        text, xs, confs = [], [], []
        prev = 0
        run_start = 0
        for t, k in enumerate(idx):
            if k != prev:
                run_start = t
            if k != 0 and k != prev:
                ch = self._chars[k] if k < len(self._chars) else ""
                if ch:
                    text.append(ch)
                    xs.append(x0 + (t + 0.5) * step_px / scale)
                    confs.append(float(prob[t]))
            elif k != 0 and k == prev and confs:
                confs[-1] = max(confs[-1], float(prob[t]))  # a character held over several steps
            prev = k
        del run_start
        # trim spaces at the ends
        while text and text[-1] == " ":
            text.pop(), xs.pop(), confs.pop()
        while text and text[0] == " ":
            text.pop(0), xs.pop(0), confs.pop(0)
        conf = float(np.mean(confs)) if confs else 0.0
        return OcrLine("".join(text), box, conf, xs, confs)

    def read(
        self,
        image: Image.Image,
        language: str = "auto",
        pause: Callable[[], None] | None = None,
    ) -> list[OcrLine]:
        """``pause``: called between steps (detection, each wave of recognition); a background
        read blocks there while a question is answered."""
        if pause is not None:
            pause()
        rgb, mask = split_markers(image)
        boxes = self._detect(rgb)
        if not boxes:
            return []
        gray = rgb.mean(axis=2).astype(np.uint8)
        lines = self._recognise(self._crops(gray, boxes), pause)
        zh = language == "zh"
        lines = [add_gap_spaces(line, gray, self._pitch, zh) for line in lines]
        return with_markers(merge_rows(lines), mask)
