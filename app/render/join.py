"""Several renders as one (a collection, issue 20).

Each document of a collection is rendered on its own pages with the collection's one
``RenderConfig``; ``join_rendered`` puts them one after another as a single ``RenderedDoc``. So
every page belongs to exactly one document, a document's pages stay the same pixels whichever
documents are asked with it (the OCR cache, keyed by the pixels, still holds), and adding a
document renders only that document.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.datamodel import LayoutMap, Page, RenderedDoc, TokenStats


def join_rendered(parts: Sequence[RenderedDoc], separator: str, *, name: str = "") -> RenderedDoc:
    """``parts`` in order as one render: text ``separator.join(texts)`` (the separator is not
    drawn), pages numbered on, line numbers continued. All parts must share one config."""
    if not parts:
        raise ValueError("nothing to join")
    config = parts[0].config
    if any(p.config.fingerprint() != config.fingerprint() for p in parts[1:]):
        raise ValueError("the parts were rendered with different configs")
    pages: list[Page] = []
    page_ids, boxes, lines = [], [], []
    next_line = 0
    for n, part in enumerate(parts):
        if n:  # the separator: not drawn
            size = len(separator)
            page_ids.append(np.full(size, -1, np.int32))
            boxes.append(np.zeros((size, 4), np.float32))
            lines.append(np.full(size, -1, np.int32))
        layout = part.layout
        drawn = layout.page >= 0
        page_ids.append(np.where(drawn, layout.page + len(pages), -1).astype(np.int32))
        boxes.append(layout.boxes)
        lines.append(np.where(drawn, layout.line + next_line, -1).astype(np.int32))
        if drawn.any():
            next_line += int(layout.line[drawn].max()) + 1
        first = len(pages)  # (not len(pages) inside the generator: it grows as it is extended)
        pages.extend(Page(index=first + i, image=p.image) for i, p in enumerate(part.pages))
    layout = LayoutMap(np.concatenate(page_ids), np.concatenate(boxes), np.concatenate(lines))
    stats = TokenStats(
        text_tokens=sum(p.stats.text_tokens for p in parts),
        visual_tokens=sum(p.stats.visual_tokens for p in parts),
    )
    text = separator.join(p.text for p in parts)
    return RenderedDoc(text=text, config=config, pages=pages, layout=layout, name=name, stats=stats)
