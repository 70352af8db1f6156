"""The alternative OCR engine: the tesseract binary through pytesseract.

``--psm 6`` (one uniform block of text), one thread per process (``OMP_THREAD_LIMIT=1``: its own
threads fight ours), the page upscaled 2x because 72-dpi text is too small for tesseract. Word
boxes are grouped into lines; characters get x positions spread over their word's box.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import numpy as np
from PIL import Image

from app.errors import MissingExtraError, ReaderError
from app.ocr.base import (
    POSTPROCESS,
    OcrLine,
    merge_rows,
    split_markers,
    with_markers,
)
from app.text import is_cjk

log = logging.getLogger(__name__)


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

    def read(
        self,
        image: Image.Image,
        language: str = "auto",
        pause: Callable[[], None] | None = None,
    ) -> list[OcrLine]:
        if pause is not None:  # one tesseract call a page: no step to give way between
            pause()
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
                if n and not (is_cjk(text[-1]) and is_cjk(word[0])):
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
