"""Draw red evidence boxes on copies of page images (the originals stay untouched)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from PIL import Image, ImageDraw

from app.datamodel import Box, Evidence, RenderedDoc

RGB = tuple[int, int, int]
RED = (230, 0, 0)
AMBER = (255, 150, 0)  # evidence that needs human review
BLUE = (0, 100, 220)  # no evidence: the passage closest to a question the reader could not answer
MAX_SOURCE_SIDE = 2500  # px: an original page is drawn at most this long on its longest side …
MAX_SOURCE_PIXELS = 4_500_000  # … and this large, whatever its size in points (posters, 200" pages)


def draw_boxes(
    image: Image.Image,
    boxes: Iterable[Box],
    *,
    color: tuple[int, int, int] = RED,
    width: int | None = None,
    pad: int = 1,
) -> Image.Image:
    """A copy of ``image`` (as RGB) with rectangles around ``boxes``."""
    out = image.convert("RGB")
    if width is None:
        width = max(1, round(min(out.size) / 500))
    draw = ImageDraw.Draw(out)
    w, h = out.size
    for x0, y0, x1, y1 in boxes:
        rect = (
            max(0, x0 - pad - width + 1),
            max(0, y0 - pad - width + 1),
            min(w - 1, x1 + pad + width - 1),
            min(h - 1, y1 + pad + width - 1),
        )
        draw.rectangle(rect, outline=color, width=width)
    return out


class _Marked(Protocol):
    """Evidence, or a place the UI shows it at (``app.ui.evidence_view.Place``)."""

    closest: bool
    needs_review: bool


def box_color(item: _Marked) -> RGB:
    """Red: evidence; amber: evidence a person should check; blue: the closest passage only."""
    return BLUE if item.closest else AMBER if item.needs_review else RED


def annotate_pages(rendered: RenderedDoc, evidence: Sequence[Evidence]) -> dict[int, Image.Image]:
    """Page index → annotated copy, for every page that has evidence."""
    by_page: dict[int, list[Evidence]] = {}
    for ev in evidence:
        by_page.setdefault(ev.page, []).append(ev)
    out = {}
    for page, items in sorted(by_page.items()):
        image = rendered.pages[page].image
        for item in items:
            image = draw_boxes(image, item.boxes, color=box_color(item))
        out[page] = image
    return out


def save_annotated(
    rendered: RenderedDoc, evidence: Sequence[Evidence], out_dir: Path, prefix: str = "evidence"
) -> dict[int, Path]:
    """Write annotated pages as PNG and record each path on its evidence items."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for page, image in annotate_pages(rendered, evidence).items():
        path = out_dir / f"{prefix}-page{page + 1:03d}.png"
        image.save(path)
        paths[page] = path
    for ev in evidence:
        if ev.page in paths:
            ev.image_path = str(paths[ev.page])
    return paths


def source_scale(width_pt: float, height_pt: float, dpi: int = 110) -> float:
    """Pixels per point for drawing an original page: ``dpi / 72``, less when the page would
    exceed ``MAX_SOURCE_SIDE`` or ``MAX_SOURCE_PIXELS`` (MuPDF refuses very large pixmaps and a
    14400-pt page at 110 dpi would be 2.5 gigapixels)."""
    w, h = max(float(width_pt), 1.0), max(float(height_pt), 1.0)
    return min(dpi / 72.0, MAX_SOURCE_SIDE / max(w, h), (MAX_SOURCE_PIXELS / (w * h)) ** 0.5)


def annotate_source_pages(
    pdf_path: str | Path,
    evidence: Sequence[Evidence],
    *,
    dpi: int = 110,
    password: str | None = None,
) -> dict[int, Image.Image]:
    """Original PDF page index → that page rasterised with red boxes around ``source_boxes``.

    The boxes come from the PDF's word boxes (in points), so they mark the answer where the user
    knows it: on the page of the file they uploaded. Each page is drawn at ``dpi``, or smaller
    when it is very large (``source_scale``).
    """
    import pymupdf

    by_page: dict[int, list[Evidence]] = {}
    for ev in evidence:
        if ev.source_page is not None and ev.source_boxes:
            by_page.setdefault(ev.source_page, []).append(ev)
    if not by_page:
        return {}
    out: dict[int, Image.Image] = {}
    with pymupdf.open(str(pdf_path)) as pdf:
        if pdf.needs_pass and not (password and pdf.authenticate(password)):
            return {}
        for page_no, items in sorted(by_page.items()):
            if not 0 <= page_no < pdf.page_count:
                continue
            page = pdf[page_no]
            scale = source_scale(page.rect.width, page.rect.height, dpi)
            pix = page.get_pixmap(matrix=pymupdf.Matrix(scale, scale), alpha=False)
            image = Image.frombytes("RGB", (pix.width, pix.height), pix.samples)
            for item in items:
                boxes = [tuple(v * scale for v in box) for box in item.source_boxes]
                image = draw_boxes(image, boxes, color=box_color(item))  # type: ignore[arg-type]
            out[page_no] = image
    return out


def save_annotated_sources(
    pdf_path: str | Path,
    evidence: Sequence[Evidence],
    out_dir: Path,
    prefix: str = "evidence-original",
    **kwargs: object,
) -> dict[int, Path]:
    """Write annotated original pages as PNG and record each path on its evidence items."""
    images = annotate_source_pages(pdf_path, evidence, **kwargs)  # type: ignore[arg-type]
    if not images:
        return {}
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for page, image in images.items():
        path = out_dir / f"{prefix}-page{page + 1:03d}.png"
        image.save(path)
        paths[page] = path
    for ev in evidence:
        if ev.source_page in paths:
            ev.source_image_path = str(paths[ev.source_page])
    return paths
