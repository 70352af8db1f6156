"""OCR engines: page image → text lines with boxes, per-character positions and confidences.

``RapidEngine`` uses the ONNX models that ship inside the ``rapidocr`` wheel (text detection from
rapidocr's own pipeline; recognition run here directly on ONNX Runtime so that the crop, the
batching and the CTC decoding keep every character's x position, which is what maps a read
character back to the rendered text). ``TesseractEngine`` runs the ``tesseract`` binary through
pytesseract (``--psm 6``, one thread, the page upscaled 2x because 72-dpi text is too small for it).

Both remove Glyph's red newline markers from the pixels before reading (the recogniser reads them
as stray "\\n"/"n" and glues the neighbouring words) and put a real "\\n" back where each marker
was seen, so line structure survives.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from PIL import Image

from app.datamodel import Box
from app.errors import MissingExtraError, ReaderError

log = logging.getLogger(__name__)

REC_HEIGHT = 48  # the recogniser's fixed input height
REC_STRIDE = 8  # input pixels per CTC time step
CROP_PITCH = 1.6  # crop height as a multiple of the line pitch: best accuracy at 72 dpi
BATCH = 4  # lines per recogniser call; several calls run at once (one per core)
# bump when the post-processing (markers, spaces, row merging) changes: cached pages then differ
POSTPROCESS = 2


@dataclass
class OcrLine:
    """One line as read: text, box on the page, confidence, and per-character x and confidence."""

    text: str
    box: Box
    confidence: float
    char_x: list[float] = field(default_factory=list)
    char_conf: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["box"] = list(self.box)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OcrLine:
        line = cls(
            text=str(data["text"]),
            box=tuple(float(v) for v in data["box"]),  # type: ignore[arg-type]
            confidence=float(data["confidence"]),
            char_x=[float(v) for v in data["char_x"]],
            char_conf=[float(v) for v in data["char_conf"]],
        )
        if len(line.char_x) != len(line.text) or len(line.char_conf) != len(line.text):
            raise ValueError("per-character arrays do not match the text")
        return line

    @property
    def y_centre(self) -> float:
        return (self.box[1] + self.box[3]) / 2


class OcrEngine(Protocol):
    name: str
    version: str

    def read(self, image: Image.Image, language: str = "auto") -> list[OcrLine]: ...


# ----------------------------------------------------------------------------------------------
# pixels
# ----------------------------------------------------------------------------------------------


def split_markers(image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """(RGB array with red newline markers painted white, boolean marker mask)."""
    rgb = np.asarray(image.convert("RGB"))
    arr = rgb.astype(np.int16)
    # strongly red and not dark: the marker colour (#FF0000) and its anti-aliased edges
    mask = (arr[..., 0] - np.maximum(arr[..., 1], arr[..., 2]) > 60) & (arr[..., 0] > 120)
    if mask.any():
        rgb = rgb.copy()
        rgb[mask] = 255
    return rgb, mask


def marker_runs(mask: np.ndarray, y0: int, y1: int, x0: int, x1: int) -> list[float]:
    """x centres of the newline markers inside a line's band (one per connected column run)."""
    # only the central rows: the band of a crop also holds the edges of the lines around it
    trim = max(1, round(0.3 * (y1 - y0)))
    band = mask[max(0, y0 + trim) : y1 - trim, max(0, x0) : x1]
    if not band.any():
        return []
    cols = np.flatnonzero(band.any(axis=0))
    runs, start = [], cols[0]
    for prev, cur in itertools.pairwise(cols):
        if cur - prev > 2:
            runs.append((start, prev))
            start = cur
    runs.append((start, cols[-1]))
    return [max(0, x0) + (a + b) / 2 for a, b in runs]


def insert_markers(line: OcrLine, markers: list[float]) -> OcrLine:
    """Put a "\\n" into the text at each marker's x position."""
    if not markers:
        return line
    text, xs, confs = list(line.text), list(line.char_x), list(line.char_conf)
    for mx in sorted(markers, reverse=True):
        pos = int(np.searchsorted(np.asarray(xs), mx)) if xs else 0
        text.insert(pos, "\n")
        xs.insert(pos, mx)
        confs.insert(pos, 1.0)
    # spaces the recogniser put next to a marker are noise around a line break
    out_t, out_x, out_c = [], [], []
    for i, ch in enumerate(text):
        near_nl = (i > 0 and text[i - 1] == "\n") or (i + 1 < len(text) and text[i + 1] == "\n")
        if ch == " " and near_nl:
            continue
        out_t.append(ch)
        out_x.append(xs[i])
        out_c.append(confs[i])
    return OcrLine("".join(out_t), line.box, line.confidence, out_x, out_c)


def add_gap_spaces(line: OcrLine, gray: np.ndarray, pitch: float) -> OcrLine:
    """Insert a space where two read characters are separated by a word-sized blank.

    The recogniser drops most spaces in CJK text and some around punctuation; the pixels still
    show them, e.g. "38.62 亿元" is drawn with a gap between the number and its unit.
    """
    if len(line.text) < 2:
        return line
    yc = line.y_centre
    band = gray[max(0, round(yc - 0.4 * pitch)) : round(yc + 0.4 * pitch)]
    if not band.size:
        return line
    blank = ~(band < 170).any(axis=0)
    min_gap = max(2.0, 0.3 * pitch)
    text, xs, confs = [line.text[0]], [line.char_x[0]], [line.char_conf[0]]
    for i in range(1, len(line.text)):
        a, b = line.text[i - 1], line.text[i]
        # only next to CJK: Latin spacing is read well by the model, and wide digits ("7")
        # would look like a gap; CJK OCR drops spaces that are plainly drawn ("38.62 亿元")
        cjk_pair = (_is_cjk(a) or _is_cjk(b)) and not (_is_cjk_punct(a) or _is_cjk_punct(b))
        if cjk_pair and not (a.isspace() or b.isspace()):
            lo, hi = int(np.ceil(line.char_x[i - 1])), int(line.char_x[i])
            seg = blank[max(0, lo) : max(0, hi)]
            if len(seg) >= min_gap and _longest_run(seg) >= min_gap:
                text.append(" ")
                xs.append((line.char_x[i - 1] + line.char_x[i]) / 2)
                confs.append(1.0)
        text.append(b)
        xs.append(line.char_x[i])
        confs.append(line.char_conf[i])
    if len(text) == len(line.text):
        return line
    return OcrLine("".join(text), line.box, line.confidence, xs, confs)


def _longest_run(mask: np.ndarray) -> int:
    best = cur = 0
    for v in mask:
        cur = cur + 1 if v else 0
        best = max(best, cur)
    return best


def _join(left: str, right: str) -> str:
    """Separator between two pieces of one visual row (none next to CJK or a line break)."""
    if not left or not right or left[-1] in " \n" or right[0] in " \n":
        return ""
    return "" if _is_cjk(left[-1]) or _is_cjk(right[0]) else " "


def merge_rows(lines: list[OcrLine]) -> list[OcrLine]:
    """Boxes on the same visual row merged left to right into one line, rows top to bottom.

    The detector often splits a dense row into several boxes (at the newline markers); boxes may
    overlap by a character, which is then read twice — such repeats are dropped by x position.
    """
    if not lines:
        return []
    heights = sorted(ln.box[3] - ln.box[1] for ln in lines)
    tol = heights[len(heights) // 2] * 0.3
    rows: list[list[OcrLine]] = []
    for line in sorted(lines, key=lambda ln: ln.y_centre):
        if rows and abs(rows[-1][0].y_centre - line.y_centre) <= tol:
            rows[-1].append(line)
        else:
            rows.append([line])
    merged = []
    for row in rows:
        row.sort(key=lambda ln: ln.box[0])
        text, xs, confs = list(row[0].text), list(row[0].char_x), list(row[0].char_conf)
        for piece in row[1:]:
            keep = [i for i, x in enumerate(piece.char_x) if not xs or x > xs[-1] + 1.0]
            if not keep:
                continue
            sep = _join("".join(text), piece.text[keep[0] :])
            if sep:
                text.append(sep)
                xs.append((xs[-1] + piece.char_x[keep[0]]) / 2)
                confs.append(1.0)
            for i in keep:
                text.append(piece.text[i])
                xs.append(piece.char_x[i])
                confs.append(piece.char_conf[i])
        box = (
            min(ln.box[0] for ln in row),
            min(ln.box[1] for ln in row),
            max(ln.box[2] for ln in row),
            max(ln.box[3] for ln in row),
        )
        weights = [max(1, len(ln.text)) for ln in row]
        conf = float(np.average([ln.confidence for ln in row], weights=weights))
        merged.append(OcrLine("".join(text), box, conf, xs, confs))
    return merged


def with_markers(rows: list[OcrLine], mask: np.ndarray) -> list[OcrLine]:
    """Newline markers put back into each row; searched across the full page width because the
    detector splits rows at the (whitened) markers, leaving them between boxes."""
    if not mask.any():
        return rows
    width = mask.shape[1]
    # a band of the typical row height around each row's centre: a row box that grew over two
    # printed lines (tesseract does that on touching lines) must not collect both lines' markers
    height = float(np.median([row.box[3] - row.box[1] for row in rows]))
    out = []
    for row in rows:
        yc = row.y_centre
        y0, y1 = round(yc - height / 2), round(yc + height / 2)
        out.append(insert_markers(row, marker_runs(mask, y0, y1, 0, width)))
    return out


def _ort_threads() -> int:
    env = os.environ.get("GLYPH_OCR_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(8, os.cpu_count() or 1))


# ----------------------------------------------------------------------------------------------
# rapidocr (models shipped in the wheel)
# ----------------------------------------------------------------------------------------------


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

    def _recognise(self, crops: list[tuple[np.ndarray, float, float, Box]]) -> list[OcrLine]:
        # batches of similar width (little padding), run on all cores at once: one session per
        # batch-thread scales better than intra-op threads on these small convolutions
        order = sorted(range(len(crops)), key=lambda i: crops[i][0].shape[1])
        batches = [order[k : k + BATCH] for k in range(0, len(order), BATCH)]
        lines: list[OcrLine | None] = [None] * len(crops)
        for idx, decoded in zip(
            batches, self._pool.map(lambda ids: self._run_batch(crops, ids), batches), strict=True
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

    def read(self, image: Image.Image, language: str = "auto") -> list[OcrLine]:
        rgb, mask = split_markers(image)
        boxes = self._detect(rgb)
        if not boxes:
            return []
        gray = rgb.mean(axis=2).astype(np.uint8)
        lines = self._recognise(self._crops(gray, boxes))
        lines = [add_gap_spaces(line, gray, self._pitch) for line in lines]
        return with_markers(merge_rows(lines), mask)


# ----------------------------------------------------------------------------------------------
# tesseract
# ----------------------------------------------------------------------------------------------

_CJK = ("\u3400", "\u9fff")


def _is_cjk_punct(ch: str) -> bool:
    # full-width punctuation carries its own blank half: a gap there is not a space
    return "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uff65"


def _is_cjk(ch: str) -> bool:
    return _CJK[0] <= ch <= _CJK[1] or "\uff00" <= ch <= "\uffef" or "\u3000" <= ch <= "\u303f"


class TesseractEngine:
    """The tesseract binary through pytesseract; word boxes grouped into lines."""

    name = "tesseract"
    UPSCALE = 2

    def __init__(self) -> None:
        try:
            import pytesseract
        except ImportError as err:
            raise MissingExtraError("ocr", "pytesseract") from err
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # tesseract's own threads fight ours
        self._tess = pytesseract
        try:
            self.version = (
                f"tesseract-{pytesseract.get_tesseract_version()}-psm6-x{self.UPSCALE}"
                f"-post{POSTPROCESS}"
            )
            langs = set(pytesseract.get_languages(config=""))
        except Exception as err:  # binary missing
            raise ReaderError(
                "The tesseract program is not installed (apt-get install tesseract-ocr).",
                "未安装 tesseract 程序（apt-get install tesseract-ocr）。",
                detail=str(err),
            ) from err
        self._langs = langs

    def _lang(self, language: str) -> str:
        wanted = {"en": ["eng"], "zh": ["chi_sim", "eng"]}.get(language, ["eng", "chi_sim"])
        have = [lang for lang in wanted if lang in self._langs]
        return "+".join(have) or "eng"

    def read(self, image: Image.Image, language: str = "auto") -> list[OcrLine]:
        rgb, mask = split_markers(image)
        big = Image.fromarray(rgb).convert("L")
        big = big.resize((big.width * self.UPSCALE, big.height * self.UPSCALE), Image.LANCZOS)
        data = self._tess.image_to_data(
            big,
            lang=self._lang(language),
            config="--psm 6",
            output_type=self._tess.Output.DICT,
        )
        groups: dict[tuple[int, int, int], list[int]] = {}
        for i, word in enumerate(data["text"]):
            if word and word.strip() and float(data["conf"][i]) >= 0:
                key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
                groups.setdefault(key, []).append(i)
        lines = []
        s = float(self.UPSCALE)
        for idx in groups.values():
            text, xs, confs = [], [], []
            for n, i in enumerate(idx):
                word = data["text"][i].strip()
                left, width = data["left"][i] / s, data["width"][i] / s
                conf = float(data["conf"][i]) / 100
                if n and not (_is_cjk(text[-1]) and _is_cjk(word[0])):
                    text.append(" ")
                    xs.append(left - 1)
                    confs.append(conf)
                step = width / len(word)
                for k, ch in enumerate(word):
                    text.append(ch)
                    xs.append(left + (k + 0.5) * step)
                    confs.append(conf)
            x0 = min(data["left"][i] for i in idx) / s
            y0 = min(data["top"][i] for i in idx) / s
            x1 = max(data["left"][i] + data["width"][i] for i in idx) / s
            y1 = max(data["top"][i] + data["height"][i] for i in idx) / s
            line = OcrLine("".join(text), (x0, y0, x1, y1), float(np.mean(confs)), xs, confs)
            lines.append(line)
        return with_markers(merge_rows(lines), mask)


_ENGINES: dict[str, OcrEngine] = {}
_ENGINES_LOCK = threading.Lock()


def get_engine(name: str) -> OcrEngine:
    """The engine called ``name`` ('rapidocr' or 'tesseract'), created once per process."""
    with _ENGINES_LOCK:
        if name not in _ENGINES:
            if name == "rapidocr":
                _ENGINES[name] = RapidEngine()
            elif name == "tesseract":
                _ENGINES[name] = TesseractEngine()
            else:
                raise ReaderError(
                    f"Unknown OCR engine '{name}' (use rapidocr or tesseract).",
                    f"未知的 OCR 引擎 '{name}'（可选 rapidocr 或 tesseract）。",
                )
        return _ENGINES[name]
