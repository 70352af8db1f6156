"""Draw red evidence boxes on copies of page images (the originals stay untouched)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from PIL import Image, ImageDraw

from app.datamodel import Box, Evidence, RenderedDoc

RED = (230, 0, 0)
AMBER = (255, 150, 0)  # evidence that needs human review


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


def annotate_pages(rendered: RenderedDoc, evidence: Sequence[Evidence]) -> dict[int, Image.Image]:
    """Page index → annotated copy, for every page that has evidence."""
    by_page: dict[int, list[Evidence]] = {}
    for ev in evidence:
        by_page.setdefault(ev.page, []).append(ev)
    out = {}
    for page, items in sorted(by_page.items()):
        image = rendered.pages[page].image
        for item in items:
            image = draw_boxes(image, item.boxes, color=AMBER if item.needs_review else RED)
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
