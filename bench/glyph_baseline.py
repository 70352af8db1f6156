"""Glyph's own rendering path, for side-by-side benchmarks: reportlab → PDF → poppler → PNG.

A re-implementation of the steps of Glyph's ``word2png_function.text_to_images`` (thu-coai/Glyph)
with the same libraries and the same config keys: the text is XML-escaped, runs of two or more
spaces become ``&nbsp;``, newlines are replaced by ``newline-markup`` in paragraphs of 30 source
lines, reportlab's ``SimpleDocTemplate`` lays out the PDF, ``pdf2image.convert_from_bytes``
(poppler's ``pdftoppm``) rasterises it in batches of 20 pages at ``dpi``, then horizontal scale,
auto-crop (tolerance 5 around the top-left background) and ``PIL.Image.save(..., "PNG")``.

Needs the ``dev`` extra (reportlab, pdf2image) and poppler-utils. Lives in bench/, never in app/.

reportlab embeds TrueType outlines only, and the Noto Sans CJK fonts installed here are CFF
(PostScript) OpenType; ``truetype_cjk_font`` converts the characters a benchmark uses into a
TrueType font with fontTools (the same design as Glyph's Source Han Sans).
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
from PIL import Image

ALIGN = {"LEFT": 0, "CENTER": 1, "RIGHT": 2, "JUSTIFY": 4}


def _color(value: Any):
    from reportlab.lib import colors

    return colors.HexColor(value) if isinstance(value, str) else value


def build_pdf(text: str, config: dict[str, Any], font_path: str) -> bytes:
    """The PDF Glyph's renderer builds for ``text`` (config uses Glyph's keys)."""
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    page_size = config.get("page-size", "595,842")
    if isinstance(page_size, str):
        page_size = tuple(float(v) for v in page_size.split(","))
    margin_x, margin_y = config.get("margin-x", 20), config.get("margin-y", 20)
    font_name = Path(font_path).stem.replace(" ", "")
    if font_name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(font_name, font_path))
    font_size = config.get("font-size", 9)
    page_bg = _color(config.get("page-bg-color", "#FFFFFF"))
    style = ParagraphStyle(
        name="Custom",
        parent=getSampleStyleSheet()["Normal"],
        fontName=font_name,
        fontSize=font_size,
        leading=config.get("line-height") or font_size + 1,
        textColor=_color(config.get("font-color", "#000000")),
        backColor=_color(config.get("para-bg-color", "#FFFFFF")),
        borderColor=_color(config.get("para-border-color", "#FFFFFF")),
        borderWidth=config.get("border-width", 0),
        borderPadding=config.get("border-padding", 0),
        firstLineIndent=config.get("first-line-indent", 0),
        wordWrap="CJK" if re.search(r"[\u4E00-\u9FFF]", text) else None,
        leftIndent=config.get("left-indent", 0),
        rightIndent=config.get("right-indent", 0),
        alignment=ALIGN.get(str(config.get("alignment", "JUSTIFY")).upper(), 4),
        spaceBefore=config.get("space-before", 0),
        spaceAfter=config.get("space-after", 0),
    )
    markup = config.get("newline-markup") or "<br/>"
    text = text.replace("\xad", "").replace("\u200b", "")
    processed = re.sub(r" {2,}", lambda m: "&nbsp;" * len(m.group()), escape(text))
    parts = processed.split("\n")
    story = [Paragraph(markup.join(parts[i : i + 30]), style) for i in range(0, len(parts), 30)]

    def paint(canvas, _doc) -> None:
        canvas.saveState()
        canvas.setFillColor(page_bg)
        canvas.rect(0, 0, page_size[0], page_size[1], stroke=0, fill=1)
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=page_size,
        leftMargin=margin_x,
        rightMargin=margin_x,
        topMargin=margin_y,
        bottomMargin=margin_y,
    )
    doc.build(story, onFirstPage=paint, onLaterPages=paint)
    return buf.getvalue()


def rasterise(pdf: bytes, config: dict[str, Any]) -> list[Image.Image]:
    """pdf2image at ``dpi`` in batches of 20, then horizontal scale and auto-crop."""
    from pdf2image import convert_from_bytes, pdfinfo_from_bytes

    dpi = config.get("dpi", 72)
    scale = config.get("horizontal-scale", 1.0)
    crop_w, crop_last = (
        config.get("auto-crop-width", False),
        config.get("auto-crop-last-page", False),
    )
    margin_x, margin_y = config.get("margin-x", 20), config.get("margin-y", 20)
    total = int(pdfinfo_from_bytes(pdf)["Pages"])
    out = []
    for start in range(1, total + 1, 20):
        batch = convert_from_bytes(pdf, dpi=dpi, first_page=start, last_page=min(start + 19, total))
        for number, img in enumerate(batch, start=start):
            if scale != 1.0:
                img = img.resize((int(img.width * scale), img.height))
            if crop_w or (crop_last and number == total):
                grey = np.array(img.convert("L"))
                mask = np.abs(grey - np.median(grey[:2, :2])) > 5
                if crop_w:
                    cols = np.where(mask.any(axis=0))[0]
                    if cols.size:
                        img = img.crop((0, 0, min(img.width, cols[-1] + 1 + margin_x), img.height))
                if crop_last and number == total:
                    rows = np.where(mask.any(axis=1))[0]
                    if rows.size:
                        img = img.crop((0, 0, img.width, min(img.height, rows[-1] + margin_y)))
            out.append(img)
    return out


def text_to_images(
    text: str, config: dict[str, Any], font_path: str, out_dir: str | Path
) -> list[str]:
    """The full Glyph path: PDF, raster, PNG files in ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, img in enumerate(rasterise(build_pdf(text, config, font_path), config), start=1):
        path = out_dir / f"page_{number:03d}.png"
        img.save(path, "PNG")
        paths.append(str(path))
    return paths


def truetype_cjk_font(chars: str, out_path: str | Path) -> str:
    """A TrueType (glyf) subset of Noto Sans CJK SC covering ``chars`` (for reportlab)."""
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    from app.render.fonts import NOTO_CJK, NOTO_CJK_SC_INDEX, find_font

    out_path = Path(out_path)
    if out_path.is_file():
        return str(out_path)
    spec = find_font(f"{NOTO_CJK}#{NOTO_CJK_SC_INDEX}")
    if spec is None:
        raise FileNotFoundError("Noto Sans CJK is not installed (fonts-noto-cjk)")
    font = TTFont(spec.path, fontNumber=spec.index)
    options = subset.Options()
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes={ord(c) for c in chars} | set(range(0x20, 0x7F)))
    subsetter.subset(font)
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = font.getGlyphOrder()
    glyf.glyphs = {}
    for name in glyf.glyphOrder:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    font["maxp"].tableVersion = 0x00010000
    for attr in (
        "maxZones",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(font["maxp"], attr, 0)
    font["maxp"].maxZones = 1
    font["post"].formatType = 2.0
    font["post"].extraNames = []
    font["post"].mapping = {}
    font["head"].indexToLocFormat = 1
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"
    tmp = out_path.with_suffix(".tmp")
    font.save(tmp)
    os.replace(tmp, out_path)
    return str(out_path)
