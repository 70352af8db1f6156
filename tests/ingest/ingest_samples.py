"""Documents for the ingest tests, generated in code (PyMuPDF writes PDFs, python-docx DOCX)."""

from __future__ import annotations

import io
import random
import struct
import zipfile
from pathlib import Path

CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"

LEFT_PARAS = [
    f"Left paragraph {i} tells about apples and orchards in the valley, row {i}. " * 3
    for i in range(1, 4)
]
RIGHT_PARAS = [
    f"Right paragraph {i} describes rivers and bridges across the plain, span {i}. " * 3
    for i in range(1, 4)
]
ZH_SENTENCE = "视觉文本压缩把长文档渲染成图像，再由视觉语言模型阅读这些页面。"


def pdf_bytes(pages: list[str], *, fontsize: float = 11) -> bytes:
    """One text page per string (an empty string makes an empty page)."""
    import pymupdf

    doc = pymupdf.open()
    for text in pages:
        page = doc.new_page(width=595, height=842)
        if text:
            page.insert_textbox(pymupdf.Rect(72, 72, 523, 770), text, fontsize=fontsize)
    return doc.tobytes()


def two_column_pdf(*, aligned: bool) -> bytes:
    """Title across the page, two columns of three paragraphs, a full-width closing paragraph.

    ``aligned``: both columns' paragraphs start at the same heights (so there are horizontal
    white gaps running right across the page, the case that trips plain XY-cut).
    """
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_text((72, 60), "Orchards and Rivers", fontsize=20)
    y_left = y_right = 100.0
    for i, (left, right) in enumerate(zip(LEFT_PARAS, RIGHT_PARAS, strict=True)):
        if aligned:
            y_left = y_right = 100.0 + i * 150.0
        rect_l = pymupdf.Rect(60, y_left, 290, y_left + 140)
        rect_r = pymupdf.Rect(310, y_right, 540, y_right + 140)
        page.insert_textbox(rect_l, left, fontsize=10)
        page.insert_textbox(rect_r, right, fontsize=10)
        if not aligned:  # staggered: the right column's paragraphs are shorter and start lower
            y_left += 150.0
            y_right += 120.0 if i == 0 else 150.0
    closing = "Closing remarks span the full width of the page below both columns. " * 3
    page.insert_textbox(pymupdf.Rect(60, 600, 540, 700), closing, fontsize=10)
    return doc.tobytes()


def cjk_pdf() -> bytes:
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_font(fontname="notocjk", fontfile=CJK_FONT)
    # a narrow box: the sentence wraps over several lines
    page.insert_textbox(
        pymupdf.Rect(72, 72, 230, 400), ZH_SENTENCE * 2, fontname="notocjk", fontsize=12
    )
    page.insert_text((72, 450), "GPU 显存 24GB", fontname="notocjk", fontsize=12)
    return doc.tobytes()


def text_image_png(text: str = "SCANNED PAGE", size: tuple[int, int] = (1240, 1754)) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    for i in range(20):
        draw.text((100, 100 + i * 70), f"{text} line {i}", fill="black")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def scanned_pdf(pages: int = 2, *, text_first: bool = False) -> bytes:
    """Pages that are just an image; with ``text_first`` page 1 has a normal text layer."""
    import pymupdf

    doc = pymupdf.open()
    png = text_image_png()
    for i in range(pages):
        page = doc.new_page(width=595, height=842)
        if text_first and i == 0:
            page.insert_textbox(pymupdf.Rect(72, 72, 523, 770), "A real text layer. " * 20)
        else:
            page.insert_image(page.rect, stream=png)
    return doc.tobytes()


def encrypted_pdf(user_pw: str = "s3cret") -> bytes:
    import pymupdf

    doc = pymupdf.open(stream=pdf_bytes(["Confidential quarterly numbers: 42."]), filetype="pdf")
    return doc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw=user_pw, owner_pw="own")


def docx_bytes(*, with_image: bool = False, cjk: bool = False) -> bytes:
    """Heading levels, paragraphs, bullet and numbered lists, a table, header and footer."""
    import docx
    from docx.shared import Inches

    d = docx.Document()
    section = d.sections[0]
    section.header.paragraphs[0].text = "ACME Corp — internal"
    section.footer.paragraphs[0].text = "Page footer text"
    d.add_heading("Annual Report", level=0)  # the Title style
    d.add_heading("Introduction", level=1)
    d.add_paragraph("The year was good for apples." if not cjk else ZH_SENTENCE)
    d.add_heading("Details", level=2)
    d.add_paragraph("First bullet", style="List Bullet")
    d.add_paragraph("Second bullet", style="List Bullet")
    d.add_paragraph("Step one", style="List Number")
    d.add_paragraph("Step two", style="List Number")
    table = d.add_table(rows=3, cols=3)
    rows = [("Name", "Qty", "Price"), ("Apple", "3", "1.20"), ("Pear", "5", "0.80")]
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            table.cell(r, c).text = value
    if with_image:
        d.add_picture(io.BytesIO(text_image_png(size=(200, 100))), width=Inches(1))
    d.add_paragraph("Closing line.")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def docx_zip_bomb(inflated_mb: int = 200) -> bytes:
    """A real DOCX plus one member that inflates ~1000:1 (streamed: never held in memory)."""
    base = zipfile.ZipFile(io.BytesIO(docx_bytes()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in base.infolist():
            zf.writestr(info.filename, base.read(info.filename))
        chunk = b"\0" * (1 << 20)
        with zf.open("word/media/bomb.bin", "w", force_zip64=True) as fh:
            for _ in range(inflated_mb):
                fh.write(chunk)
    return buf.getvalue()


def docx_lying_sizes() -> bytes:
    """A DOCX whose central directory claims word/document.xml is 10 bytes long."""
    data = bytearray(docx_bytes())
    target = b"word/document.xml"
    pos = data.find(b"PK\x01\x02")
    while pos != -1:
        (name_len,) = struct.unpack("<H", data[pos + 28 : pos + 30])
        if bytes(data[pos + 46 : pos + 46 + name_len]) == target:
            data[pos + 24 : pos + 28] = struct.pack("<I", 10)  # uncompressed size
            break
        pos = data.find(b"PK\x01\x02", pos + 4)
    return bytes(data)


def docx_billion_laughs() -> bytes:
    """A DOCX whose document.xml declares nested entities (10^9 'a' if expanded)."""
    src = zipfile.ZipFile(io.BytesIO(docx_bytes()))
    xml = src.read("word/document.xml")
    ents = (
        '<!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(8))
        + "]>"
    )
    head = xml.index(b"?>") + 2
    bomb = xml[:head] + ents.encode() + xml[head:].replace(b"Closing line.", b"Closing &i;", 1)
    return zip_bytes(
        {
            info.filename: bomb if info.filename == "word/document.xml" else src.read(info)
            for info in src.infolist()
        }
    )


def random_bytes(n: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.getrandbits(8) for _ in range(n))


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


SCAN_EN = [
    "Quarterly maintenance report for the Lisbon depot.",
    "The replacement pump for line 4 was ordered on 12 March 2025 from Hansen Hydraulics. "
    "Delivery is expected within six weeks and the installation will take two days.",
    "The inspection found corrosion on the north loading dock. Repair costs are estimated at "
    "18,400 euros and are covered by the facilities budget.",
]
SCAN_ZH = [
    "仓库季度检查报告。",
    "北区装卸平台发现锈蚀，维修费用估计为一万八千四百欧元，由设施预算支付。"
    "四号线的备用水泵已于三月十二日订购，预计六周内到货。",
]


def scanned_text_pdf(
    pages: list[list[str]], *, cjk: bool = False, dpi: int = 200
) -> tuple[bytes, bytes]:
    """A scan of real text: each page typeset by PyMuPDF, drawn in grey at ``dpi`` and placed as
    the only content of a new page (no text layer). Returns (scan, the text PDF it was made of)."""
    import pymupdf

    source = pymupdf.open()
    for paragraphs in pages:
        page = source.new_page(width=595, height=842)
        if cjk:
            page.insert_font(fontname="zh", fontfile=CJK_FONT)
        page.insert_textbox(
            pymupdf.Rect(72, 72, 523, 770),
            "\n\n".join(paragraphs),
            fontsize=11,
            fontname="zh" if cjk else "helv",
        )
    scan = pymupdf.open()
    for page in source:
        pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
        new = scan.new_page(width=page.rect.width, height=page.rect.height)
        new.insert_image(new.rect, stream=pix.tobytes("png"))
    return scan.tobytes(), source.tobytes()
