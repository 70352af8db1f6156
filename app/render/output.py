"""Writing a ``RenderedDoc`` to a directory: page PNGs, the layout map and a manifest.

Directory layout (what ``python -m app render`` and ``scripts/render_text.py`` produce)::

    page_001.png … page_NNN.png   the pages (greyscale PNG unless a colour is in use)
    layout.npz                    LayoutMap.to_npz(): page, box and line of every character
    text.txt                      the exact text the offsets of the layout refer to (UTF-8)
    manifest.json                 config (Glyph keys), per-page size / tokens / character span,
                                  token statistics
"""

from __future__ import annotations

import hashlib
import json
from functools import partial
from pathlib import Path
from typing import Any

from app.datamodel import RenderedDoc
from app.files import atomic_write_bytes
from app.render.tokens import visual_tokens

MANIFEST = "manifest.json"
LAYOUT = "layout.npz"
TEXT = "text.txt"

# outputs a user can render again: atomic (a unique temporary name per writer), no fsync
_write = partial(atomic_write_bytes, durable=False)


def page_file_name(index: int) -> str:
    return f"page_{index + 1:03d}.png"


def manifest(rendered: RenderedDoc, files: list[str] | None = None) -> dict[str, Any]:
    """The JSON-ready description of a render."""
    pages = []
    for page in rendered.pages:
        width, height = page.size
        span = rendered.layout.span_of_page(page.index)
        pages.append(
            {
                "index": page.index,
                "file": files[page.index] if files else page_file_name(page.index),
                "width": width,
                "height": height,
                "mode": page.image.mode,
                "visual_tokens": visual_tokens(width, height),
                "chars": list(span) if span else None,
            }
        )
    stats = rendered.stats
    text_bytes = rendered.text.encode("utf-8", "surrogatepass")
    return {
        "name": rendered.name,
        "key": rendered.key,
        "chars": len(rendered.text),
        "text_sha256": hashlib.sha256(text_bytes).hexdigest(),
        "config": rendered.config.to_glyph_dict(),
        "pages": pages,
        "stats": {
            "text_tokens_estimate": stats.text_tokens,
            "visual_tokens": stats.visual_tokens,
            "compression_ratio": round(stats.compression_ratio, 3),
        },
        "files": {"layout": LAYOUT, "text": TEXT},
    }


def write_rendered(rendered: RenderedDoc, out: Path) -> dict[str, Any]:
    """Write pages, layout, text and manifest into ``out`` (created; stale pages removed)."""
    out.mkdir(parents=True, exist_ok=True)
    keep = {page_file_name(p.index) for p in rendered.pages}
    for old in out.glob("page_*.png"):
        if old.name not in keep:
            old.unlink()
    for page in rendered.pages:
        _write(out / page_file_name(page.index), page.png_bytes())
    _write(out / LAYOUT, rendered.layout.to_npz())
    _write(out / TEXT, rendered.text.encode("utf-8", "surrogatepass"))
    data = manifest(rendered)
    _write(out / MANIFEST, json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"))
    return data
