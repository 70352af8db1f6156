"""A minimal monospace 'renderer' for tests that need a RenderedDoc without the real renderer.

Each character is a 6×10 cell; lines break at newlines and every ``cols`` characters; a page
holds ``rows`` lines. Ink is a filled rectangle inside each non-space cell, so box-vs-ink checks
are meaningful.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from app.datamodel import Document, LayoutMap, Page, RenderConfig, RenderedDoc

CW, CH = 6, 10


def fake_render(text: str | Document, cols: int = 60, rows: int = 40) -> RenderedDoc:
    document = text if isinstance(text, Document) else None
    text = document.text if document else text
    n = len(text)
    page = np.full(n, -1, np.int32)
    boxes = np.zeros((n, 4), np.float32)
    line = np.zeros(n, np.int32)
    cur_line, col = 0, 0
    for i, ch in enumerate(text):
        if ch == "\n":
            line[i] = cur_line
            cur_line, col = cur_line + 1, 0
            continue
        if col >= cols:
            cur_line, col = cur_line + 1, 0
        p, r = divmod(cur_line, rows)
        page[i] = p
        boxes[i] = (col * CW, r * CH, (col + 1) * CW, (r + 1) * CH)
        line[i] = cur_line
        col += 1
    n_pages = int(page.max()) + 1 if (page >= 0).any() else 1
    arrays = [np.full((rows * CH, cols * CW), 255, np.uint8) for _ in range(n_pages)]
    for i, ch in enumerate(text):
        if page[i] >= 0 and not ch.isspace():
            x0, y0, x1, y1 = boxes[i].astype(int)
            arrays[page[i]][y0 + 2 : y1 - 2, x0 + 1 : x1 - 1] = 0
    pages = [Page(i, Image.fromarray(a, "L")) for i, a in enumerate(arrays)]
    return RenderedDoc(
        text=text,
        config=RenderConfig(),
        pages=pages,
        layout=LayoutMap(page, boxes, line),
        name="fake",
        document=document,
    )
