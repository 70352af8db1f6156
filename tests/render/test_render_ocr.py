"""Readability round trip on one page: OCR reads the rendered text back.

Small versions of bench/render_ocr.py (which measures many pages): tesseract on the en preset
(2x upscale, --psm 6) and rapidocr on the zh preset at 96 dpi.
"""

import os
import shutil

import numpy as np
import pytest
from PIL import Image
from rapidfuzz.distance import Levenshtein

from app.render import render, resolve_config

EN = (
    "Rendering turns long documents into dense page images that a vision language model can "
    "read with far fewer tokens than the raw text. Each page is typeset at nine points on ten, "
    "the same density Glyph was trained on, and every character keeps its box so that answers "
    "can be traced back to the line they came from. The renderer caches every glyph once and "
    "builds whole pages with a few array operations, which makes it many times faster than "
    "going through a PDF. Numbers such as 42, 3.14 and 2025 must survive the round trip too.\n"
    "A second paragraph starts after a newline, which the English preset marks in red."
)
ZH = (
    "视觉文本压缩把文字排版成图片，再让视觉语言模型阅读这些图片。与直接输入文本相比，图片形式"
    "通常只需要三到四分之一的词元。渲染器必须保证同样的文本和参数总能得到完全相同的页面。为了"
    "给出可靠的证据，系统会记录每个字符在页面上的位置。今年第三季度公司营业收入为一百二十三亿"
    "元，同比增长百分之十五。这座古城已有两千多年的历史，城墙保存得相当完整。"
)


def _norm(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")
def test_tesseract_reads_the_en_preset_back():
    pytesseract = pytest.importorskip("pytesseract")
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    doc = render(EN, resolve_config("en"))
    assert len(doc.pages) == 1
    image = doc.pages[0].image.convert("L")
    big = image.resize((image.width * 2, image.height * 2), Image.Resampling.BILINEAR)
    got = _norm(pytesseract.image_to_string(big, lang="eng", config="--psm 6"))
    expected = _norm(EN.replace("\n", " \\n "))  # the newline is drawn as a visible marker
    cer = Levenshtein.distance(expected, got) / len(expected)
    assert cer <= 0.005, f"CER {cer:.4f}: {got!r}"


def test_rapidocr_reads_the_zh_preset_at_96_dpi_back():
    rapidocr = pytest.importorskip("rapidocr")
    engine = rapidocr.RapidOCR(
        params={
            "Global.use_cls": False,
            "Global.log_level": "error",
            "EngineConfig.onnxruntime.intra_op_num_threads": 1,
        }
    )
    doc = render(ZH, resolve_config("zh", dpi=96))
    assert len(doc.pages) == 1
    result = engine(np.asarray(doc.pages[0].image.convert("RGB")), use_cls=False)
    rows = sorted(
        zip(result.boxes, result.txts, strict=True),
        key=lambda r: (float(np.mean(r[0][:, 1])), float(r[0][0][0])),
    )
    got = "".join(text for _box, text in rows).replace(" ", "")
    cer = Levenshtein.distance(ZH, got) / len(ZH)
    assert cer <= 0.08, f"CER {cer:.4f}: {got!r}"
