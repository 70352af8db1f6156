"""Readability of rendered pages: OCR them and compare with the text (character error rate).

    .venv/bin/python bench/render_ocr.py [--pages 8] [--glyph] [--lang en zh]

* en: the ``en`` preset (Glyph's values: 72 dpi, 9 pt on 10 pt, red `` \\n `` newline markers),
  read by tesseract (``--psm 6``, English, pages upscaled 2x bilinear, OMP_THREAD_LIMIT=1);
* zh: the ``zh`` preset at 96 dpi, read by rapidocr (PP-OCR models shipped in its wheel,
  ``use_cls=False``).

CER is computed over the whole document: the expected string is the text as drawn (newlines as
the visible `` \\n `` marker), the OCR output is the pages' text in reading order; both have
white space collapsed (English) or removed (Chinese), so line and page breaks do not count.
``quote-folded`` additionally maps typographic quotes to ASCII ones, because tesseract's English
model writes “ ” for the straight " it sees. ``--glyph`` also measures Glyph's own pages
(reportlab → poppler) of the same text for reference.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import numpy as np
from PIL import Image
from rapidfuzz.distance import Levenshtein

from app.render import render, resolve_config
from app.render.fonts import DEJAVU_SANS, find_font
from bench.glyph_baseline import build_pdf, rasterise, truetype_cjk_font
from bench.render_corpus import chinese_text, english_text

QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})


def tesseract_page(image: Image.Image) -> str:
    import pytesseract

    grey = image.convert("L")
    big = grey.resize((grey.width * 2, grey.height * 2), Image.Resampling.BILINEAR)
    return pytesseract.image_to_string(big, lang="eng", config="--psm 6")


_RAPID = None


def rapidocr_page(image: Image.Image) -> str:
    global _RAPID
    if _RAPID is None:
        from rapidocr import RapidOCR

        _RAPID = RapidOCR(
            params={
                "Global.use_cls": False,
                "Global.log_level": "error",
                "EngineConfig.onnxruntime.intra_op_num_threads": 1,
            }
        )
    result = _RAPID(np.asarray(image.convert("RGB")), use_cls=False)
    if result.txts is None:
        return ""
    rows = []
    for box, text in zip(result.boxes, result.txts, strict=True):
        box = np.asarray(box)
        rows.append((float(box[:, 1].mean()), float(box[:, 0].min()), text))
    # reading order: lines by their vertical centre (within half a line), then left to right
    rows.sort(key=lambda r: (round(r[0] / 6), r[1]))
    return "\n".join(r[2] for r in rows)


def cer(expected: str, got: str) -> float:
    return Levenshtein.distance(expected, got) / max(len(expected), 1)


def measure(lang: str, pages: int, with_glyph: bool, workdir: Path) -> dict:
    per_page = 9000 if lang == "en" else 5000  # characters on one page of each preset
    text = english_text(per_page * pages) if lang == "en" else chinese_text(per_page * pages)
    config = resolve_config("en") if lang == "en" else resolve_config("zh", dpi=96)
    marker = " \\n "
    drawn = text.replace("\n", marker)
    if lang == "en":
        expected = " ".join(drawn.split())
        read, norm = tesseract_page, lambda s: " ".join(s.split())
    else:
        expected = "".join(drawn.split())
        read, norm = rapidocr_page, lambda s: "".join(s.split())
    results = {}
    sides = {"ours": [p.image for p in render(text, config).pages]}
    if with_glyph:
        font = (
            find_font(DEJAVU_SANS).path
            if lang == "en"
            else truetype_cjk_font("".join(sorted(set(text))), workdir / "noto-sc.ttf")
        )
        glyph_config = config.to_glyph_dict()
        sides["glyph"] = rasterise(build_pdf(text, glyph_config, font), glyph_config)
    for side, images in sides.items():
        started = time.perf_counter()
        got = norm("\n".join(read(image) for image in images))
        results[side] = {
            "pages": len(images),
            "chars": len(expected),
            "cer": cer(expected, got),
            "cer_quote_folded": cer(expected.translate(QUOTES), got.translate(QUOTES)),
            "ocr_s": time.perf_counter() - started,
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=8, help="pages of text per language")
    parser.add_argument("--lang", nargs="+", default=["en", "zh"], choices=["en", "zh"])
    parser.add_argument("--glyph", action="store_true", help="also OCR Glyph's own pages")
    args = parser.parse_args()
    print("| lang | reader | pages | side | chars | CER | CER quote-folded |")
    print("|---|---|---:|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="render-ocr-") as tmp:
        for lang in args.lang:
            reader = "tesseract 2x, psm 6" if lang == "en" else "rapidocr, 96 dpi"
            for side, r in measure(lang, args.pages, args.glyph, Path(tmp)).items():
                print(
                    f"| {lang} | {reader} | {r['pages']} | {side} | {r['chars']} | "
                    f"{100 * r['cer']:.2f}% | {100 * r['cer_quote_folded']:.2f}% |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
